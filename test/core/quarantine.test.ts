import assert from "node:assert/strict";
import { Harness, tasksSent } from "./harness";

describe("core: a worker that keeps timing out is quarantined (rule 11)", () => {
  it("after 3 timeouts in a row it gets no task for 1 s, then 2 s; the task goes to a worker that answers", () => {
    const h = new Harness({ timeout: 100, tries: 10 });
    h.ready("hole", { capacity: 1 });
    h.request("c", "q");
    h.advance(100);
    h.advance(100);
    h.advance(100); // the third timeout in a row
    assert.equal(tasksSent(h.log).length, 3, "the only worker got the retries until then");
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.quarantinedUntil, h.now + 1000);
    h.request("c", "another");
    assert.equal(tasksSent(h.log).length, 3, "nothing is sent to a quarantined worker");
    h.ready("good", { capacity: 1 });
    for (let i = 0; i < 2; i++) {
      const [peer, task] = tasksSent(h.log).at(-1) ?? ["", ""];
      assert.equal(peer, "good", "the waiting tasks go to the worker that answers");
      h.result(peer, task, "ok");
    }
    h.advance(1000);
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.quarantinedUntil, undefined);
    h.request("c", "third");
    h.request("c", "fourth");
    assert.deepEqual(tasksSent(h.log).slice(5).map(([peer]) => peer).sort(), ["good", "hole"], "eligible again after its quarantine");
    h.advance(100); // a fourth timeout in a row: twice as long
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.quarantinedUntil, h.now + 2000);
  });

  it("an answer ends the count", () => {
    const h = new Harness({ timeout: 100, tries: 10 });
    h.ready("w", { capacity: 1 });
    h.request("c", "a");
    h.advance(100);
    h.advance(100);
    const [peer, task] = tasksSent(h.log).at(-1) ?? ["", ""];
    h.result(peer, task, "ok");
    h.request("c", "b");
    h.advance(100);
    h.advance(100);
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.quarantinedUntil, undefined);
  });
});
