import assert from "node:assert/strict";
import { Harness, tasksSent } from "./harness";

describe("core: a worker that keeps timing out is quarantined (rule 11)", () => {
  it("after 3 timeouts in a row it gets no task for 1 s, then 2 s, while another worker serves its services", () => {
    const h = new Harness({ timeout: 100, tries: 10 });
    h.ready("good", { capacity: 1 });
    h.request("c", "long job"); // keeps good busy (its attempt has no answer yet)
    h.ready("hole", { capacity: 1 });
    h.request("c", "q");
    const [goodPeer, goodTask] = tasksSent(h.log)[0] ?? ["", ""];
    // The hole times out; good is busy, so the retries come back to the hole, three times.
    for (let i = 0; i < 3; i++) {
      h.advance(99);
      h.result(goodPeer, tasksSent(h.log).filter(([p]) => p === "good").at(-1)?.[1] ?? goodTask, "ok");
      h.request("c", `keep good busy ${i}`);
      h.advance(1);
    }
    const hole = () => h.core.snapshot({}, h.now).workers.find((w) => w.name === "hole");
    assert.equal(hole()?.quarantinedUntil, h.now + 1000);
    const sentToHole = tasksSent(h.log).filter(([peer]) => peer === "hole").length;
    h.request("c", "another");
    h.advance(500);
    assert.equal(tasksSent(h.log).filter(([peer]) => peer === "hole").length, sentToHole, "nothing is sent to a quarantined worker");
    h.advance(500);
    assert.equal(hole()?.quarantinedUntil, undefined, "eligible again after its quarantine");
    assert.ok(tasksSent(h.log).filter(([peer]) => peer === "hole").length > sentToHole);
  });

  it("is not quarantined when it is the only worker of a service, and is released when the other one leaves", () => {
    const h = new Harness({ timeout: 100, tries: 10 });
    h.ready("alone", { capacity: 1 });
    h.request("c", "q");
    for (let i = 0; i < 4; i++) h.advance(100);
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.quarantinedUntil, undefined);
    assert.equal(tasksSent(h.log).length, 5, "the only worker keeps getting the retries");
    h.ready("other", { capacity: 1 });
    h.request("c", "r");
    h.advance(100); // alone's fifth timeout in a row: now "other" can serve, so it is quarantined
    assert.notEqual(h.core.snapshot({}, h.now).workers.find((w) => w.name === "alone")?.quarantinedUntil, undefined);
    h.worker("other", { type: "disconnect" });
    assert.equal(h.core.snapshot({}, h.now).workers.find((w) => w.name === "alone")?.quarantinedUntil, undefined);
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
