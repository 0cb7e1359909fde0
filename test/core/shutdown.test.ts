import assert from "node:assert/strict";
import { Harness, onlyReply, replies, toWorkers } from "./harness";

describe("core: shutdown with grace (rule 7)", () => {
  it("fails queued tasks at once, gives running ones the grace, then disconnects workers and stops", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "running", { id: "r" });
    h.request("c1", "queued", { id: "q" });
    const out = h.in({ kind: "shutdown", grace: 500 });
    const r = onlyReply(out);
    assert.deepEqual([r.detail.id, r.detail.reason], ["q", "shutdown"]);
    assert.ok(!out.some((o) => o.kind === "stopped"));
    assert.equal(onlyReply(h.request("c2", "new")).detail.reason, "shutdown");
    assert.equal(h.core.snapshot({}, h.now).broker.state, "draining");
    const end = h.advance(500);
    const last = onlyReply(end);
    assert.deepEqual([last.detail.id, last.detail.reason], ["r", "shutdown"]);
    const d = toWorkers(end, "disconnect")[0];
    assert.ok(d !== undefined && d.msg.type === "disconnect" && d.msg.detail?.reason === "shutdown");
    assert.equal(end.at(-1)?.kind, "stopped");
  });

  it("stops as soon as the last running task is answered within the grace", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "a");
    h.in({ kind: "shutdown", grace: 10_000 });
    const out = h.result("w1", "boot-1", "A");
    assert.equal(onlyReply(out).detail.status, "succeeded");
    assert.equal(out.at(-1)?.kind, "stopped");
    assert.equal(h.core.nextDeadline(), undefined);
  });

  it("stops at once with nothing running, and answers a plain client with the empty frame", () => {
    const h = new Harness();
    h.plain("c1", "a");
    const out = h.in({ kind: "shutdown", grace: 1000 });
    const [r] = replies(out);
    assert.ok(r !== undefined && r.msg.type === "plain-reply");
    assert.deepEqual(r.msg.payload.map((x) => x.length), [0]);
    assert.equal(out.at(-1)?.kind, "stopped");
  });
});
