import assert from "node:assert/strict";
import { curveKeyPair } from "zeromq";
import { BrokerSecurity, KeyPolicy, insecureBindWarning, isLoopbackEndpoint } from "../../broker/src/security";

describe("bind addresses and security warnings", () => {
  it("tells loopback endpoints from reachable ones", () => {
    for (const local of [
      "tcp://127.0.0.1:4164",
      "tcp://127.3.2.1:1",
      "tcp://localhost:4164",
      "tcp://[::1]:4164",
      "tcp://lo:4164",
      "tcp://[::ffff:127.0.0.1]:4164",
      "ipc:///tmp/ztb.sock",
      "inproc://ztb",
    ]) {
      assert.ok(isLoopbackEndpoint(local), local);
    }
    for (const reachable of [
      "tcp://*:4161",
      "tcp://0.0.0.0:4161",
      "tcp://[::]:4161",
      "tcp://192.168.1.5:4161",
      "tcp://eth0:4161",
      "tcp://example.org:4161",
      "tcp://128.0.0.1:4161",
      "ws://127.0.0.1:80",
      "nonsense",
    ]) {
      assert.ok(!isLoopbackEndpoint(reachable), reachable);
    }
  });

  it("warns about a reachable endpoint without CURVE only", () => {
    assert.equal(
      insecureBindWarning("workers", "tcp://*:4162", false),
      "the workers endpoint tcp://*:4162 is reachable from other hosts without CURVE: anyone who reaches it can " +
        "take tasks and forge results (see ztb keygen and --curve-secret)",
    );
    assert.equal(insecureBindWarning("workers", "tcp://*:4162", true), undefined);
    assert.equal(insecureBindWarning("admin", "tcp://127.0.0.1:4164", false), undefined);
  });

  it("warns about each allow-list that lets nobody in", () => {
    const security = new BrokerSecurity(curveKeyPair(), KeyPolicy.fromLists({ worker: [curveKeyPair().publicKey] }));
    assert.deepEqual(security.warnings(), [
      "--client-keys not given: the clients endpoint refuses every client",
      "--admin-keys not given: the admin endpoint refuses every monitor",
    ]);
    return security.close();
  });
});
