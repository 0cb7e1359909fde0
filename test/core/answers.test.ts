import assert from "node:assert/strict";
import { Harness, cancels, f, onlyReply, replies, s, tasksSent, toWorkers } from "./harness";

describe("core: rule 6 — first answer wins; the others get CANCEL{answered}", () => {
  it("accepts a RESULT from a timed-out attempt and cancels the running retry", () => {
    const h = new Harness({ timeout: 1000 });
    h.ready("w1");
    h.ready("w2");
    h.request("c1", "a");
    const retry = h.advance(1000);
    assert.deepEqual(tasksSent(retry), [["w2", "boot-1"]]);
    const out = h.result("w1", "boot-1", "late but first");
    const r = onlyReply(out);
    assert.equal(r.detail.status, "succeeded");
    assert.equal(r.detail.worker, "w1");
    assert.equal(s(r.payload[0]), "late but first");
    assert.deepEqual(cancels(out), [["w2", "boot-1", "answered"]]);
  });
});

describe("core: rule 6 — later answers are discarded and counted as late", () => {
  it("discards a second RESULT for an answered task", () => {
    const h = new Harness({ timeout: 1000 });
    h.ready("w1");
    h.ready("w2");
    h.request("c1", "a");
    h.advance(1000);
    h.result("w1", "boot-1", "first");
    const out = h.result("w2", "boot-1", "second");
    assert.equal(replies(out).length, 0);
    assert.equal(h.counters().late, 1);
  });

  it("counts a RESULT for an unknown task id as late", () => {
    const h = new Harness();
    h.ready("w1");
    h.result("w1", "other-boot-7", "x");
    assert.equal(h.counters().late, 1);
  });
});

describe("core: rule 8 — foreign-task", () => {
  it("ignores a RESULT from a worker that never held the task (counted, no disconnect)", () => {
    const h = new Harness();
    h.ready("w1");
    h.ready("w2");
    h.request("c1", "a");
    const out = h.result("w2", "boot-1", "stolen");
    assert.deepEqual(replies(out), []);
    assert.deepEqual(toWorkers(out, "disconnect"), []);
    assert.equal(h.counters().malformed.worker, 1);
    assert.equal(onlyReply(h.result("w1", "boot-1", "real")).detail.worker, "w1");
  });
});

describe("core: legacy workers — one slot, freed when the worker asks again", () => {
  it("sends the prototype's task frames to the REQ path and replies to a plain client", () => {
    const h = new Harness();
    h.legacyReady("L1");
    const out = h.plain("c1", "job");
    const [sent] = toWorkers(out, "legacy-task");
    assert.ok(sent !== undefined && sent.msg.type === "legacy-task");
    assert.equal(s(sent.msg.task), "boot-1");
    assert.equal(s(sent.msg.payload[0]), "job");
    const reply = replies(h.answer("boot-1", "done"));
    assert.equal(reply.length, 1);
    assert.equal(reply[0]?.msg.type, "plain-reply");
    assert.equal(s(reply[0]?.msg.payload[0]), "done");
  });

  it("keeps the slot taken after the answer until the worker asks again", () => {
    const h = new Harness();
    h.legacyReady("L1");
    h.plain("c1", "a");
    h.plain("c1", "b");
    h.answer("boot-1", "A");
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.held, 1);
    assert.deepEqual(tasksSent(h.legacyReady("L1")), [["L1", "boot-2"]]);
  });

  it("keeps the attempt open after the worker asks again, so a slow answer is not a retry", () => {
    const h = new Harness({ timeout: 1000 });
    h.legacyReady("L1");
    h.plain("c1", "a");
    h.legacyReady("L1"); // asks again before its PUSH answer arrives
    assert.equal(h.counters().running, 1);
    assert.equal(replies(h.answer("boot-1", "A")).length, 1);
    assert.equal(h.counters().retried, 0);
  });

  it("retries a legacy attempt after its deadline and counts its answer if it still comes first", () => {
    const h = new Harness({ timeout: 1000 });
    h.legacyReady("L1");
    h.plain("c1", "a");
    h.ready("w2");
    const out = h.advance(1000);
    assert.deepEqual(tasksSent(out), [["w2", "boot-1"]]);
    assert.deepEqual(cancels(out), []); // a legacy worker cannot be cancelled
    const answered = h.answer("boot-1", "legacy wins");
    assert.equal(replies(answered).length, 1);
    assert.deepEqual(cancels(answered), [["w2", "boot-1", "answered"]]);
  });

  it("re-queues a legacy worker's task when its connection drops", () => {
    const h = new Harness();
    h.legacyReady("L1");
    h.plain("c1", "a");
    h.legacyReady("L2");
    assert.deepEqual(tasksSent(h.worker("L1", { type: "peer-gone" })), [["L2", "boot-1"]]);
  });

  it("names legacy workers after their peer", () => {
    const h = new Harness();
    h.legacyReady("0a1b2c3d4e5f");
    const w = h.core.snapshot({}, h.now).workers[0];
    assert.deepEqual([w?.kind, w?.name, w?.capacity, w?.heartbeat], ["legacy", "legacy-0a1b2c3d", 1, null]);
  });
});

describe("core: workers the broker does not know, and protocol errors", () => {
  it("answers a modern command from an unknown peer with DISCONNECT{unknown-worker}", () => {
    const h = new Harness();
    const out = h.worker("ghost", { type: "heartbeat", interval: 1000 });
    const [d] = toWorkers(out, "disconnect");
    assert.ok(d !== undefined && d.msg.type === "disconnect");
    assert.deepEqual([d.peer, d.msg.detail?.reason], ["ghost", "unknown-worker"]);
  });

  it("disconnects a modern worker that sends a malformed message and re-queues its task", () => {
    const h = new Harness();
    h.ready("w1");
    h.ready("w2");
    h.request("c1", "a");
    const out = h.in({ kind: "malformed", endpoint: "workers", peer: "w1", code: "ZTB_ERR_BAD_JSON", detail: "x" });
    const [d] = toWorkers(out, "disconnect");
    assert.ok(d !== undefined && d.msg.type === "disconnect");
    assert.deepEqual([d.peer, d.msg.detail?.reason], ["w1", "protocol-error"]);
    assert.deepEqual(tasksSent(out), [["w2", "boot-1"]]);
    assert.equal(h.counters().malformed.worker, 1);
  });

  it("only counts a malformed message from a legacy peer (it cannot be sent DISCONNECT)", () => {
    const h = new Harness();
    h.legacyReady("L1");
    const out = h.in({ kind: "malformed", endpoint: "workers", peer: "L1", code: "ZTB_ERR_EXTRA_FRAME", detail: "x" });
    assert.deepEqual(toWorkers(out), []);
    assert.equal(h.counters().malformed.worker, 1);
  });

  it("rate-limits the log lines about one peer's malformed messages to one per second", () => {
    const h = new Harness();
    const logs = () => h.log.filter((o) => o.kind === "log" && o.event.startsWith("malformed")).length;
    for (let i = 0; i < 5; i++) h.in({ kind: "malformed", endpoint: "answers", code: "ZTB_ERR_EMPTY", detail: "" });
    assert.equal(logs(), 1);
    h.advance(1000);
    h.in({ kind: "malformed", endpoint: "answers", code: "ZTB_ERR_EMPTY", detail: "" });
    assert.equal(logs(), 2);
    assert.equal(h.counters().malformed.answers, 6);
  });

  it("counts a legacy answer with an unknown task id as late", () => {
    const h = new Harness();
    h.answer("nope", "x");
    assert.equal(h.counters().late, 1);
    assert.ok(f("x"));
  });
});
