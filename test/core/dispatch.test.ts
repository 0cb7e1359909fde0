import assert from "node:assert/strict";
import { Harness, firstTask, tasksSent, toWorkers } from "./harness";

describe("core: rule 1 — tasks go only to workers with free capacity that serve the service", () => {
  it("queues a request while no worker is free and dispatches when one becomes ready", () => {
    const h = new Harness();
    assert.deepEqual(tasksSent(h.request("c1", "a")), []);
    const out = h.ready("w1");
    assert.deepEqual(tasksSent(out), [["w1", "boot-1"]]);
  });

  it("never sends a second task to a worker with capacity 1 until it answers", () => {
    const h = new Harness();
    h.ready("w1");
    assert.equal(firstTask(h.request("c1", "a")), "boot-1");
    assert.deepEqual(tasksSent(h.request("c1", "b")), []);
    assert.deepEqual(tasksSent(h.result("w1", "boot-1", "A")), [["w1", "boot-2"]]);
  });

  it("only gives a task to workers that serve its service", () => {
    const h = new Harness();
    h.ready("w1", { services: ["render"] });
    assert.deepEqual(tasksSent(h.request("c1", "a", { service: "ocr" })), []);
    assert.deepEqual(tasksSent(h.ready("w2", { services: ["ocr", "render"] })), [["w2", "boot-1"]]);
    assert.deepEqual(tasksSent(h.request("c1", "b", { service: "render" })), [["w1", "boot-2"]]);
  });

  it("gives a multi-service worker the oldest waiting task across its services", () => {
    const h = new Harness();
    h.request("c1", "x", { service: "b" });
    h.request("c1", "y", { service: "a" });
    assert.deepEqual(tasksSent(h.ready("w1", { services: ["a", "b"], capacity: 2 })), [
      ["w1", "boot-1"],
      ["w1", "boot-2"],
    ]);
  });

  it("sends the TASK header with the effective attempt, attempts and timeout", () => {
    const h = new Harness({ tries: 3, timeout: 500 });
    h.ready("w1");
    const [sent] = toWorkers(h.request("c1", "a", { timeout: 2000, attempts: 9, service: "default" }), "task");
    assert.ok(sent !== undefined && sent.msg.type === "task");
    assert.deepEqual(sent.msg.header, { service: "default", attempt: 1, attempts: 3, timeout: 500 });
  });
});

describe("core: rule 2 — FIFO per service", () => {
  it("dispatches tasks in arrival order", () => {
    const h = new Harness();
    for (const p of ["a", "b", "c"]) h.request("c1", p);
    const out = h.ready("w1", { capacity: 3 });
    assert.deepEqual(tasksSent(out).map(([, t]) => t), ["boot-1", "boot-2", "boot-3"]);
  });
});

describe("core: rule 2 — the least recently used idle worker gets the task", () => {
  it("rotates over idle workers in the order they became free", () => {
    const h = new Harness();
    h.ready("w1");
    h.ready("w2");
    h.ready("w3");
    assert.deepEqual(tasksSent(h.request("c1", "a")), [["w1", "boot-1"]]);
    assert.deepEqual(tasksSent(h.request("c1", "b")), [["w2", "boot-2"]]);
    h.result("w1", "boot-1", "A");
    assert.deepEqual(tasksSent(h.request("c1", "c")), [["w3", "boot-3"]]);
    assert.deepEqual(tasksSent(h.request("c1", "d")), [["w1", "boot-4"]]);
  });

  it("moves a worker that still has free slots to the back after giving it a task", () => {
    const h = new Harness();
    h.ready("w1", { capacity: 2 });
    h.ready("w2", { capacity: 2 });
    const sent = [...tasksSent(h.request("c1", "a")), ...tasksSent(h.request("c1", "b")), ...tasksSent(h.request("c1", "c"))];
    assert.deepEqual(sent.map(([w]) => w), ["w1", "w2", "w1"]);
  });
});

describe("core: capacity is never exceeded", () => {
  it("holds at most `capacity` tasks and refills one slot per answer", () => {
    const h = new Harness();
    for (let i = 0; i < 10; i++) h.request("c1", `p${i}`);
    assert.equal(tasksSent(h.ready("w1", { capacity: 4 })).length, 4);
    const view = () => h.core.snapshot({}, h.now).workers[0];
    assert.equal(view()?.held, 4);
    assert.equal(tasksSent(h.result("w1", "boot-2", "x")).length, 1);
    assert.equal(view()?.held, 4);
    assert.equal(h.counters().queued, 5);
  });
});

describe("core: draining workers get no new tasks", () => {
  it("skips a drained worker and resumes it when the drain is lifted", () => {
    const h = new Harness();
    h.ready("w1");
    h.admin("m1", { type: "drain", path: [new Uint8Array(0)], worker: "w1" });
    assert.deepEqual(tasksSent(h.request("c1", "a")), []);
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.state, "draining");
    const out = h.admin("m1", { type: "drain", path: [new Uint8Array(0)], worker: "w1", drain: false });
    assert.deepEqual(tasksSent(out), [["w1", "boot-1"]]);
  });
});
