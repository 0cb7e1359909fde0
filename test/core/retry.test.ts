import assert from "node:assert/strict";
import { Harness, cancels, onlyReply, replies, tasksSent } from "./harness";

describe("core: rule 3–4 — attempt timeout", () => {
  it("sends CANCEL{timeout}, frees the slot and retries", () => {
    const h = new Harness({ timeout: 1000 });
    h.ready("w1");
    h.request("c1", "a");
    assert.deepEqual(h.advance(999).filter((o) => o.kind !== "log"), []);
    const out = h.advance(1);
    assert.deepEqual(cancels(out), [["w1", "boot-1", "timeout"]]);
    assert.deepEqual(tasksSent(out), [["w1", "boot-1"]]); // the only worker: it gets the retry
    assert.equal(h.counters().retried, 1);
  });

  it("has no timeout when neither the broker nor the request sets one", () => {
    const h = new Harness();
    h.ready("w1", { heartbeat: 100_000 });
    h.request("c1", "a");
    assert.deepEqual(cancels(h.advance(250_000)), []);
  });
});

describe("core: rule 2/4 — a retried task goes to the front of its queue and prefers another worker", () => {
  it("puts the retried task before tasks that arrived later", () => {
    const h = new Harness({ timeout: 1000 });
    h.ready("w1");
    h.request("c1", "a");
    h.request("c1", "b");
    // w1 is the only worker: the retried boot-1 comes back to it before boot-2
    assert.deepEqual(tasksSent(h.fail("w1", "boot-1", true)), [["w1", "boot-1"]]);
    assert.deepEqual(tasksSent(h.result("w1", "boot-1", "A")), [["w1", "boot-2"]]);
  });

  it("skips the worker that failed while another idle worker exists", () => {
    const h = new Harness({ timeout: 1000 });
    h.ready("w1", { capacity: 2 });
    h.ready("w2");
    assert.deepEqual(tasksSent(h.request("c1", "a")), [["w1", "boot-1"]]);
    assert.deepEqual(tasksSent(h.request("c1", "b")), [["w2", "boot-2"]]);
    h.result("w2", "boot-2", "B"); // LRU now: w1 (1 free slot), w2
    const out = h.advance(1000);
    assert.deepEqual(cancels(out), [["w1", "boot-1", "timeout"]]);
    assert.deepEqual(tasksSent(out), [["w2", "boot-1"]]);
  });
});

describe("core: rule 4 — attempts exhausted fail with the reason of the last attempt", () => {
  it("reports timeout after the last timed-out attempt", () => {
    const h = new Harness({ timeout: 100, tries: 2 });
    h.ready("w1");
    h.request("c1", "a");
    h.advance(100);
    const r = onlyReply(h.advance(100));
    assert.equal(r.detail.status, "failed");
    assert.equal(r.detail.reason, "timeout");
    assert.equal(r.detail.attempts, 2);
    assert.equal(r.detail.worker, "w1");
    assert.equal(r.detail.elapsed, 200);
  });

  it("reports worker-failed after a last retryable FAIL, with its message", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "a", { attempts: 1 });
    const r = onlyReply(h.fail("w1", "boot-1", true, "disk full"));
    assert.equal(r.detail.reason, "worker-failed");
    assert.equal(r.detail.message, "disk full");
  });

  it("reports worker-lost when the last attempt's worker vanished", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "a", { attempts: 1 });
    const r = onlyReply(h.worker("w1", { type: "peer-gone" }));
    assert.equal(r.detail.reason, "worker-lost");
  });

  it("clamps the requested attempts to the broker's -t", () => {
    const h = new Harness({ tries: 1 });
    h.ready("w1");
    h.request("c1", "a", { attempts: 5 });
    assert.equal(onlyReply(h.fail("w1", "boot-1", true)).detail.attempts, 1);
  });
});

describe("core: rule 4 — a non-retryable FAIL fails at once", () => {
  it("replies worker-failed after one attempt although attempts remain", () => {
    const h = new Harness({ tries: 5 });
    h.ready("w1");
    h.ready("w2");
    h.request("c1", "a");
    const out = h.fail("w1", "boot-1", false, "bad input");
    assert.deepEqual(tasksSent(out), []);
    const r = onlyReply(out);
    assert.deepEqual([r.detail.reason, r.detail.message, r.detail.attempts], ["worker-failed", "bad input", 1]);
  });
});

describe("core: rule 5 — a lost worker's tasks are re-queued at once", () => {
  for (const how of ["peer-gone", "disconnect"] as const) {
    it(`re-dispatches on ${how} without waiting for the timeout`, () => {
      const h = new Harness({ timeout: 60_000 });
      h.ready("w1");
      h.request("c1", "a");
      h.ready("w2");
      const out = h.worker("w1", how === "peer-gone" ? { type: "peer-gone" } : { type: "disconnect", detail: { reason: "bye" } });
      assert.deepEqual(tasksSent(out), [["w2", "boot-1"]]);
      assert.equal(h.counters().workers, 1);
      assert.equal(replies(out).length, 0);
    });
  }
});

describe("core: EXTEND moves the attempt's deadline", () => {
  it("postpones the timeout to now + the extension", () => {
    const h = new Harness({ timeout: 1000 });
    h.ready("w1");
    h.request("c1", "a");
    h.advance(900);
    h.worker("w1", { type: "extend", task: new TextEncoder().encode("boot-1"), timeout: 500 });
    assert.deepEqual(cancels(h.advance(499)), []);
    assert.deepEqual(cancels(h.advance(1)), [["w1", "boot-1", "timeout"]]);
  });
});
