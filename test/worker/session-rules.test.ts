/** The worker side's rules (broker/src/worker/session-rules.ts), driven with a fake clock: no sockets, no sleeps. */
import assert from "node:assert/strict";
import { Backoff } from "../../broker/src/peer/backoff";
import { extendDue, Liveness, Slots } from "../../broker/src/worker/session-rules";

describe("worker rules: Liveness (§Heartbeating)", () => {
  it("heartbeats after one own interval of sending nothing, and any send moves that on", () => {
    const l = new Liveness(1000, 0);
    l.received(0);
    l.announced(2500);
    assert.deepEqual(l.due(999), { action: "none" });
    assert.deepEqual(l.due(1000), { action: "heartbeat" });
    l.sent(1000);
    assert.equal(l.nextDeadline(), 2000);
  });

  it("judges the broker by 3 x its announced interval, counted from the last message received", () => {
    const l = new Liveness(1000, 0);
    l.received(0);
    l.announced(400);
    l.sent(1100);
    assert.deepEqual(l.due(1199), { action: "none" });
    assert.deepEqual(l.due(1200), { action: "dead", silentMs: 1200 });
  });

  it("before hearing from the broker, the registration window is 3 x min(own interval, 2500): a 60 s worker waits 7.5 s", () => {
    const slow = new Liveness(60_000, 0);
    assert.equal(slow.silenceLimit, 7500);
    assert.deepEqual(slow.due(7499), { action: "none" });
    assert.equal(slow.due(7500).action, "dead");
    assert.equal(new Liveness(200, 0).silenceLimit, 600);
  });

  it("an out-of-range broker interval is ignored but the message still counts as acceptance and as life", () => {
    const l = new Liveness(60_000, 0);
    assert.equal(l.received(5000), true, "first message: accepted");
    assert.equal(l.announced(99), false);
    assert.equal(l.announced(60_001), false);
    assert.equal(l.broker, null);
    assert.equal(l.silenceLimit, 7500, "no valid interval yet: the registration window stands");
    assert.equal(l.received(6000), false);
    assert.equal(l.announced(100), true);
    assert.equal(l.silenceLimit, 300);
    assert.equal(l.announced(70_000), false);
    assert.equal(l.broker, 100, "keeps the previous valid value");
  });
});

describe("worker rules: Slots (§Capacity, rules 6 and 7)", () => {
  it("counts slots like the broker: taken by TASK, freed by the answer or by CANCEL", () => {
    const slots = new Slots<string>(2, ["default"]);
    assert.deepEqual(slots.admit("a", "default"), { action: "run" });
    slots.take("a", "run-a");
    slots.take("b", "run-b");
    assert.deepEqual(slots.admit("c", "default"), { action: "over-capacity" });
    assert.equal(slots.cancel("a", false), "run-a");
    assert.equal(slots.size, 1);
    assert.equal(slots.finished("a", "run-a"), false, "cancelled (not timeout): its answer is not sent");
    assert.equal(slots.finished("b", "run-b"), true);
    assert.equal(slots.size, 0);
  });

  it("a TASK for a service not announced is answered, not run", () => {
    assert.deepEqual(new Slots<string>(1, ["resize"]).admit("a", "default"), { action: "not-served" });
  });

  it("after CANCEL timeout the run lingers and may answer, until the same id comes again: then it is abandoned", () => {
    const slots = new Slots<string>(1, ["default"]);
    slots.take("a", "first");
    slots.cancel("a", true);
    assert.deepEqual(slots.admit("a", "default"), { action: "run", abandon: "first" });
    slots.take("a", "second");
    assert.equal(slots.finished("a", "first"), false, "the abandoned run's answer would end the new attempt");
    assert.equal(slots.finished("a", "second"), true);
  });

  it("a lingering run's answer is sent once, and frees nothing more", () => {
    const slots = new Slots<string>(1, ["default"]);
    slots.take("a", "first");
    slots.cancel("a", true);
    assert.equal(slots.finished("a", "first"), true);
    assert.equal(slots.finished("a", "first"), false);
    assert.equal(slots.size, 0);
  });

  it("the same id while it is held (no CANCEL first) keeps the running one", () => {
    const slots = new Slots<string>(2, ["default"]);
    slots.take("a", "first");
    assert.deepEqual(slots.admit("a", "default"), { action: "duplicate" });
    assert.equal(slots.size, 1);
  });
});

describe("worker rules: EXTEND timing and the back-off after protocol-error", () => {
  it("EXTEND is due once half of the timeout has passed; never for a task without a deadline", () => {
    assert.equal(extendDue(1000, 5000), 3500);
    assert.equal(extendDue(1000, null), null);
  });

  it("protocol-error right after each registration keeps doubling the back-off instead of restarting at 100 ms", () => {
    const backoff = new Backoff({}, () => 0);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      backoff.reset(); // the broker's HEARTBEAT: registered
      backoff.undoReset(); // then DISCONNECT protocol-error
      delays.push(backoff.next());
    }
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it("any other disconnection after registration starts again from the first delay", () => {
    const backoff = new Backoff({}, () => 0);
    backoff.next();
    backoff.next();
    backoff.reset();
    assert.equal(backoff.next(), 100);
  });
});
