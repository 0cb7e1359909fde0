import assert from "node:assert/strict";
import { Harness, tasksSent, toWorkers } from "./harness";

describe("core: broker HEARTBEATs to modern workers", () => {
  it("sends one right after READY, then one per interval of silence", () => {
    const h = new Harness({ heartbeat: 1000 });
    const first = toWorkers(h.ready("w1", { heartbeat: 60_000 }), "heartbeat");
    assert.deepEqual(first.map((x) => x.msg.type === "heartbeat" && x.msg.interval), [1000]);
    assert.equal(toWorkers(h.advance(999), "heartbeat").length, 0);
    assert.equal(toWorkers(h.advance(1), "heartbeat").length, 1);
    h.advance(500);
    h.request("c1", "a"); // the TASK counts as a sign of life: the next HEARTBEAT is 1000 ms after it
    assert.equal(toWorkers(h.advance(999), "heartbeat").length, 0);
    assert.equal(toWorkers(h.advance(1), "heartbeat").length, 1);
  });
});

describe("core: heartbeat expiry — 3 x the worker's interval of silence", () => {
  it("loses a silent worker and re-queues its task at once", () => {
    const h = new Harness({ heartbeat: 10_000 });
    h.ready("w1", { heartbeat: 1000 });
    h.request("c1", "a");
    h.ready("w2", { heartbeat: 100_000 });
    h.advance(2000);
    h.worker("w1", { type: "heartbeat", interval: 1000 }); // alive at +2000: dead only at +5000
    assert.deepEqual(tasksSent(h.advance(2999)), []);
    const out = h.advance(1);
    assert.deepEqual(tasksSent(out), [["w2", "boot-1"]]);
    assert.equal(h.counters().workers, 1);
    assert.ok(out.some((o) => o.kind === "log" && o.event === "worker-lost"));
  });

  it("asks a worker it lost to send READY again", () => {
    const h = new Harness();
    h.ready("w1", { heartbeat: 100 });
    h.advance(300);
    const [d] = toWorkers(h.worker("w1", { type: "heartbeat", interval: 100 }), "disconnect");
    assert.ok(d !== undefined && d.msg.type === "disconnect" && d.msg.detail?.reason === "unknown-worker");
  });
});
