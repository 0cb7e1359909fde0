/** §Request deadlines and §Limits discovery (ZTB/1.1), on the core with a fake clock. */
import assert from "node:assert/strict";
import { Harness, cancels, f, onlyReply, replies, tasksSent } from "./harness";

describe("core: request deadline (REQUEST deadline, --deadline)", () => {
  it("fails a request nobody serves with expired at its deadline, saying no worker serves the service", () => {
    const h = new Harness();
    h.request("c1", "q", { service: "resize", deadline: 500, id: "r1" });
    assert.deepEqual(replies(h.advance(499)), []);
    const r = onlyReply(h.advance(1));
    assert.equal(r.detail.status, "failed");
    assert.equal(r.detail.reason, "expired");
    assert.equal(r.detail.id, "r1");
    assert.equal(r.detail.attempts, 0);
    assert.equal(r.detail.elapsed, 500);
    assert.match(r.detail.message ?? "", /^no worker serves "resize"/);
    assert.equal(h.counters().failed, 1);
    assert.equal(h.counters().queued, 0);
  });

  it("says the workers were busy when the service has workers but none had a free slot", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "first");
    h.request("c1", "second", { deadline: 300 });
    const r = onlyReply(h.advance(300));
    assert.equal(r.detail.reason, "expired");
    assert.match(r.detail.message ?? "", /in the queue: the 1 worker serving "default" had no free slot/);
  });

  it("cancels a running attempt (CANCEL timeout), frees the slot and does not hold it against the worker", () => {
    const h = new Harness();
    h.ready("w1", { name: "slow" });
    h.request("c1", "q", { deadline: 1000 });
    h.request("c1", "next");
    const out = h.advance(1000);
    const r = onlyReply(out);
    assert.equal(r.detail.reason, "expired");
    assert.equal(r.detail.attempts, 1);
    assert.equal(r.detail.worker, "slow");
    assert.match(r.detail.message ?? "", /while attempt 1 ran on worker slow/);
    assert.deepEqual(cancels(out), [["w1", "boot-1", "timeout"]]);
    // The freed slot takes the next task at once.
    assert.deepEqual(tasksSent(out), [["w1", "boot-2"]]);
    const [worker] = h.core.snapshot({}, h.now).workers;
    assert.equal(worker?.failed, 0);
  });

  it("is cleared by the reply: an answered task does not expire later", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "q", { deadline: 1000 });
    h.advance(10);
    assert.equal(onlyReply(h.result("w1", "boot-1", "A")).detail.status, "succeeded");
    assert.deepEqual(replies(h.advance(5000)), []);
  });

  it("takes the broker's --deadline as the default and the cap, also for plain requests", () => {
    const h = new Harness({ deadline: 200 });
    h.request("c1", "asks for more", { deadline: 10_000 });
    h.plain("c2", "plain");
    const out = h.advance(200);
    const all = replies(out);
    assert.equal(all.length, 2);
    const enveloped = all.find((r) => r.peer === "c1")?.msg;
    assert.ok(enveloped?.type === "reply");
    assert.equal(enveloped.detail.reason, "expired");
    const plain = all.find((r) => r.peer === "c2")?.msg;
    assert.ok(plain?.type === "plain-reply");
    assert.deepEqual(plain.payload.map((frame) => frame.length), [0]);
  });

  it("a shorter deadline than the attempt timeout ends the task as expired, not as timeout, and without a retry", () => {
    const h = new Harness({ timeout: 5000 });
    h.ready("w1");
    h.ready("w2");
    h.request("c1", "q", { deadline: 100 });
    const out = h.advance(100);
    assert.equal(onlyReply(out).detail.reason, "expired");
    assert.deepEqual(tasksSent(out), []);
  });

  it("a request attached by its key shares the task's deadline", () => {
    const h = new Harness();
    h.request("c1", "q", { key: "k", deadline: 100, id: "a" });
    h.request("c2", "q", { key: "k", id: "b" });
    const all = replies(h.advance(100));
    assert.deepEqual(
      all.map((r) => (r.msg.type === "reply" ? [r.peer, r.msg.detail.id, r.msg.detail.reason] : [])),
      [
        ["c1", "a", "expired"],
        ["c2", "b", "expired"],
      ],
    );
    // Not kept for the key: the next request with it is a new task, not the expired reply again.
    assert.deepEqual(replies(h.request("c3", "q", { key: "k", id: "c" })), []);
    assert.equal(h.counters().requests, 2);
  });

  it("SNAPSHOT shows the broker's deadline", () => {
    assert.equal(new Harness({ deadline: 30_000 }).core.snapshot({}, 0).broker.deadline, 30_000);
    assert.equal(new Harness().core.snapshot({}, 0).broker.deadline, null);
  });
});

describe("core: limits discovery (REQUEST limits)", () => {
  it("answers at once with the broker's limits, creating no task", () => {
    const h = new Harness({ timeout: 2000, tries: 3, deadline: 30_000, maxQueue: 50, keepResults: 60_000, bounds: { maxOctets: 1024, maxFrames: 16 } });
    const r = onlyReply(h.in({ kind: "client", peer: "c1", msg: { type: "request", path: [new Uint8Array(0)], options: { limits: true, id: "l" }, payload: [f("ignored")] } }));
    assert.deepEqual(r.detail, {
      status: "succeeded",
      id: "l",
      attempts: 0,
      elapsed: 0,
      limits: { timeout: 2000, attempts: 3, deadline: 30_000, maxQueue: 50, keepResults: 60_000, maxMessage: 1024, maxFrames: 16 },
    });
    assert.deepEqual(r.payload, []);
    const counters = h.counters();
    assert.equal(counters.requests, 0);
    assert.equal(counters.replies, 1);
    assert.equal(counters.queued, 0);
  });

  it("says null for the limits a broker does not have", () => {
    const h = new Harness();
    const r = onlyReply(h.request("c1", "", { limits: true }));
    assert.deepEqual(
      [r.detail.limits?.timeout, r.detail.limits?.attempts, r.detail.limits?.deadline, r.detail.limits?.maxQueue],
      [null, null, null, null],
    );
  });
});
