import assert from "node:assert/strict";
import { BrokerModel, mergeChanges } from "../../extension/src/model/broker-model";
import { classifyEvent } from "../../extension/src/model/sequence";
import { counters, event, snapshot, T0, task, worker } from "./fixtures";

describe("extension broker model", () => {
  it("replaces everything with a snapshot", () => {
    const model = new BrokerModel(100);
    model.applySnapshot(snapshot({ workers: [worker("w1")], tasks: { total: 1, offset: 0, items: [task("a")] } }));
    model.applySnapshot(snapshot({ seq: 3, workers: [worker("w2")], tasks: { total: 1, offset: 0, items: [task("b")] } }));
    assert.deepEqual(model.workers().map((w) => w.id), ["w2"]);
    assert.deepEqual(model.tasks().map((t) => t.id), ["b"]);
    assert.equal(model.seq, 3);
    assert.equal(model.broker()?.version, "0.1.0");
  });

  it("applies events in seq order: upserts and removals", () => {
    const model = new BrokerModel(100);
    model.applySnapshot(snapshot({ seq: 10, workers: [worker("w1")], tasks: { total: 1, offset: 0, items: [task("a")] } }));
    const r1 = model.applyEvent(
      event(11, {
        counters: counters({ running: 1 }),
        tasks: [task("a", { state: "running", worker: "w1", attempt: 1, dispatchedAt: T0 + 5 })],
        workers: [worker("w1", { state: "busy", held: 1, tasks: ["a"] })],
      }),
    );
    assert.equal(r1.kind, "applied");
    assert.equal(model.task("a")?.state, "running");
    assert.equal(model.worker("w1")?.state, "busy");
    assert.equal(model.counters()?.running, 1);
    if (r1.kind === "applied") {
      assert.deepEqual([...r1.change.groups].sort(), ["queued", "running"]);
      assert.deepEqual(r1.change.workers, new Set(["w1"]));
    }
    const r2 = model.applyEvent(event(12, { removed: { tasks: ["a"], workers: ["w1"] } }));
    assert.equal(r2.kind, "applied");
    assert.equal(model.task("a"), undefined);
    assert.equal(model.worker("w1"), undefined);
    if (r2.kind === "applied") assert.equal(r2.change.workers, "all");
  });

  it("reports a task changing within its group as a row change, not a group change", () => {
    const model = new BrokerModel(100);
    model.applySnapshot(snapshot({ tasks: { total: 1, offset: 0, items: [task("a", { state: "running", attempt: 1 })] } }));
    const r = model.applyEvent(event(11, { tasks: [task("a", { state: "running", attempt: 2 })] }));
    assert.equal(r.kind, "applied");
    if (r.kind === "applied") {
      assert.equal(r.change.groups.size, 0);
      assert.deepEqual(r.change.tasks, new Set(["a"]));
    }
  });

  it("ignores stale events and reports a gap without changing anything", () => {
    const model = new BrokerModel(100);
    model.applySnapshot(snapshot({ seq: 10 }));
    assert.deepEqual(model.applyEvent(event(10, { tasks: [task("x")] })), { kind: "stale" });
    assert.deepEqual(model.applyEvent(event(13, { tasks: [task("y")] })), { kind: "gap", expected: 11, got: 13 });
    assert.equal(model.tasks().length, 0);
    assert.equal(model.seq, 10);
    assert.equal(model.applyEvent(event(11, { tasks: [task("z")] })).kind, "applied");
    assert.equal(model.seq, 11);
  });

  it("classifies event order", () => {
    assert.equal(classifyEvent(5, 6), "next");
    assert.equal(classifyEvent(5, 5), "stale");
    assert.equal(classifyEvent(5, 2), "stale");
    assert.equal(classifyEvent(5, 7), "gap");
  });

  it("keeps at most historySize finished tasks, dropping the oldest finished first, never active ones", () => {
    const model = new BrokerModel(3);
    model.applySnapshot(snapshot({ tasks: { total: 1, offset: 0, items: [task("q", { state: "queued" })] } }));
    for (let i = 1; i <= 5; i++) {
      const r = model.applyEvent(event(10 + i, { tasks: [task(`f${i}`, { state: "succeeded", createdAt: T0 + i, finishedAt: T0 + i })] }));
      assert.equal(r.kind, "applied");
    }
    assert.deepEqual(model.tasksIn("succeeded").map((t) => t.id), ["f5", "f4", "f3"]);
    assert.equal(model.task("q")?.state, "queued");
    const shrink = model.setHistorySize(1);
    assert.deepEqual(model.tasksIn("succeeded").map((t) => t.id), ["f5"]);
    assert.ok(shrink.groups.has("succeeded"));
  });

  it("keeps history per state: 1 200 successes do not push out 2 failures", () => {
    const model = new BrokerModel(1000);
    model.applySnapshot(snapshot({ seq: 10 }));
    let seq = 10;
    for (const id of ["f1", "f2"]) {
      model.applyEvent(event(++seq, { tasks: [task(id, { state: "failed", reason: "timeout", createdAt: T0 + seq, finishedAt: T0 + seq })] }));
    }
    for (let i = 0; i < 1200; i++) {
      const r = model.applyEvent(event(++seq, { tasks: [task(`s${i}`, { state: "succeeded", createdAt: T0 + seq, finishedAt: T0 + seq })] }));
      assert.equal(r.kind, "applied");
    }
    assert.deepEqual(model.tasksIn("failed").map((t) => t.id), ["f2", "f1"]);
    assert.equal(model.countIn("succeeded"), 1000);
    assert.equal(model.tasksIn("succeeded").at(-1)?.id, "s200", "the oldest successes went first");
  });

  it("moves a finished task's history slot with it when it changes state", () => {
    const model = new BrokerModel(1);
    model.applySnapshot(snapshot({ tasks: { total: 1, offset: 0, items: [task("a", { state: "cancelled" })] } }));
    model.applyEvent(event(11, { tasks: [task("a", { state: "failed" })] }));
    model.applyEvent(event(12, { tasks: [task("b", { state: "cancelled", createdAt: T0 + 1 })] }));
    assert.deepEqual(model.tasks().map((t) => `${t.id} ${t.state}`), ["b cancelled", "a failed"]);
  });

  it("keeps the newest finished tasks of a large snapshot", () => {
    const model = new BrokerModel(2);
    const items = [1, 2, 3, 4].map((i) => task(`t${i}`, { state: "failed", createdAt: T0 + i }));
    model.applySnapshot(snapshot({ tasks: { total: 4, offset: 0, items } }));
    assert.deepEqual(model.tasks().map((t) => t.id), ["t4", "t3"]);
  });

  it("adds a fetched page without overwriting newer event data", () => {
    const model = new BrokerModel(100);
    model.applySnapshot(snapshot({ tasks: { total: 1, offset: 0, items: [task("a", { state: "succeeded", attempt: 2 })] } }));
    const change = model.addTasks([task("a", { state: "queued" }), task("old", { state: "succeeded", createdAt: T0 - 1 })]);
    assert.equal(model.task("a")?.attempt, 2);
    assert.ok(model.task("old"));
    assert.ok(change.groups.has("succeeded"));
    assert.equal(model.seq, 10);
  });

  it("merges changes for one debounced render", () => {
    const model = new BrokerModel(10);
    model.applySnapshot(snapshot({ workers: [worker("w1"), worker("w2")] }));
    const a = model.applyEvent(event(11, { workers: [worker("w1", { done: 1 })] }));
    const b = model.applyEvent(event(12, { workers: [worker("w2", { done: 1 })] }));
    assert.ok(a.kind === "applied" && b.kind === "applied");
    const merged = mergeChanges(a.change, b.change);
    assert.deepEqual(merged.workers, new Set(["w1", "w2"]));
    assert.equal(merged.counters, true);
  });

  it("clear forgets everything", () => {
    const model = new BrokerModel(10);
    model.applySnapshot(snapshot({ workers: [worker("w1")] }));
    model.clear();
    assert.equal(model.hasSnapshot, false);
    assert.equal(model.workers().length, 0);
    assert.equal(model.counters(), undefined);
  });

  it("takes the broker's info read on its own, keeping tasks, workers, counters and seq; older or unchanged readings change nothing", () => {
    const model = new BrokerModel(100);
    const info = snapshot().broker;
    const memory = { budget: 1 << 30, rss: 1 << 28, shedding: false };
    assert.equal(model.applyBrokerInfo({ ...info, memory }, T0).broker, false, "nothing before the first snapshot");
    assert.equal(model.broker(), undefined);
    model.applySnapshot(snapshot({ workers: [worker("w1")], tasks: { total: 1, offset: 0, items: [task("a")] } }));
    model.applyEvent(event(11, { counters: counters({ queued: 1 }) }));

    const change = model.applyBrokerInfo({ ...info, memory: { ...memory, shedding: true } }, T0 + 2000);
    assert.equal(change.broker, true);
    assert.equal(change.counters, false);
    assert.equal(model.broker()?.memory?.shedding, true);
    assert.deepEqual([model.seq, model.counters()?.queued, model.workers().length, model.taskCount], [11, 1, 1, 1]);

    assert.equal(model.applyBrokerInfo({ ...info, memory }, T0 + 1000).broker, false, "an answer that crossed a newer one");
    assert.equal(model.broker()?.memory?.shedding, true);
    assert.equal(model.applyBrokerInfo({ ...info, memory: { ...memory, shedding: true } }, T0 + 4000).broker, false, "the same info");
  });
});
