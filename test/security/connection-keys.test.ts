/**
 * ConnectionKeys (broker/src/security/connection-keys.ts): how a connection learns the key ZAP allowed it with, and
 * which connections a reload revokes. The order-based join itself is exercised over real sockets in
 * key-revocation.test.ts; here each rule on its own.
 */
import assert from "node:assert/strict";
import { ConnectionKeys } from "../../broker/src/security";

describe("ConnectionKeys", () => {
  it("gives a connect notice the key of the handshake ZAP just allowed on that endpoint, and forgets it at disconnect", async () => {
    const keys = new ConnectionKeys();
    keys.track("workers");
    keys.track("clients");
    const worker = keys.expect("workers", "KEY-W");
    const client = keys.expect("clients", "KEY-C");
    keys.connected("clients", "peer-c");
    keys.connected("workers", "peer-w");
    await Promise.all([worker, client]); // each wait ends at its notice
    assert.equal(keys.keyOf("workers", "peer-w"), "KEY-W");
    assert.equal(keys.keyOf("clients", "peer-c"), "KEY-C");
    // A notice nobody waited for (its handshake outlived the wait): the key is unknown.
    keys.connected("workers", "peer-late");
    assert.equal(keys.keyOf("workers", "peer-late"), null);
    // A connected peer's own empty message looks like a notice: it must not take the key of the next handshake.
    const next = keys.expect("workers", "KEY-NEXT");
    assert.equal(keys.connected("workers", "peer-w"), false, "not a notice: the codec refuses it");
    assert.equal(keys.keyOf("workers", "peer-w"), "KEY-W");
    keys.connected("workers", "peer-next");
    await next;
    assert.equal(keys.keyOf("workers", "peer-next"), "KEY-NEXT");
    keys.disconnected("workers", "peer-w");
    assert.equal(keys.keyOf("workers", "peer-w"), undefined);
  });

  it("does not wait on endpoints whose ROUTER does not report connects, nor on the answers endpoint", async () => {
    const keys = new ConnectionKeys();
    await keys.expect("admin", "KEY-A"); // admin not tracked: resolves at once
    await keys.expect("answers", "KEY-L");
    keys.connected("admin", "peer-a");
    assert.equal(keys.keyOf("admin", "peer-a"), null);
  });

  it("revokes connections whose key is refused now, and those of unknown key where the list lost keys", () => {
    const keys = new ConnectionKeys();
    keys.track("workers");
    keys.track("clients");
    void keys.expect("workers", "GOOD");
    keys.connected("workers", "w-good");
    void keys.expect("workers", "BAD");
    keys.connected("workers", "w-bad");
    keys.connected("workers", "w-unknown");
    keys.connected("clients", "c-unknown");
    const allowed = new Set(["GOOD"]);
    const revoked = keys.revoke(
      (_domain, key) => allowed.has(key),
      (domain) => domain === "workers",
    );
    assert.deepEqual(
      revoked.map((r) => `${r.domain}/${r.peer}/${String(r.key)}`).sort(),
      ["workers/w-bad/BAD", "workers/w-unknown/null"],
    );
    assert.equal(keys.keyOf("workers", "w-bad"), undefined, "revoked connections are forgotten");
    assert.equal(keys.keyOf("clients", "c-unknown"), null, "an unknown key stays where its list lost nothing");
    assert.deepEqual(keys.revoke(() => false, () => false).map((r) => r.peer).sort(), ["w-good"]);
  });

  it("tells whether a key that connected to the answers endpoint is refused now, once", async () => {
    const keys = new ConnectionKeys();
    await keys.expect("answers", "LEGACY-1");
    await keys.expect("answers", "LEGACY-2");
    assert.equal(keys.answersRevoked(() => true), false);
    assert.equal(keys.answersRevoked((key) => key !== "LEGACY-2"), true);
    assert.equal(keys.answersRevoked(() => false), false, "after a re-bind the set starts empty");
  });
});
