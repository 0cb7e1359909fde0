import assert from "node:assert/strict";
import { BrokerModel } from "../../extension/src/model/broker-model";
import { queueDepths, RateSeries } from "../../extension/src/model/rates";
import { formatTaskFilter, parseTaskFilter, taskMatches, type TaskFilter } from "../../extension/src/model/task-filter";
import { brokerChildNodes, brokerRootNodes, clusterOf, taskGroupNodes, taskLabel, taskNodes, type BrokerViewInput } from "../../extension/src/model/tree-model";
import { counters, event, snapshot, T0, task, worker } from "./fixtures";

function filter(line: string): TaskFilter {
  const parsed = parseTaskFilter(line);
  assert.ok(parsed.ok && parsed.filter, `${line} parses to a filter`);
  return parsed.filter;
}

describe("extension task labels", () => {
  it("names a task after its request-file block, else its first frame shortened to one line", () => {
    assert.equal(taskLabel(task("a"), "sample.ztb#1 Say hello"), "sample.ztb#1 Say hello");
    assert.equal(taskLabel(task("a", { preview: { text: "  resize\n  image.png  " } }), undefined), "resize image.png");
    const long = taskLabel(task("a", { preview: { text: "x".repeat(100) } }), undefined);
    assert.equal(long.length, 40);
    assert.ok(long.endsWith("…"));
    assert.equal(taskLabel(task("a", { preview: { hex: "89504e470d0a1a0a0000" }, size: 10 }), undefined), "hex 89 50 4e 47 0d 0a 1a 0a …");
    assert.equal(taskLabel(task("a", { preview: { text: "" } }), undefined), "(empty frame)");
  });

  it("the model keeps a task's title across snapshots and re-renders its row when it is named", () => {
    const model = new BrokerModel(100);
    model.applySnapshot(snapshot({ tasks: { total: 1, offset: 0, items: [task("t1", { state: "succeeded", finishedAt: T0 })] } }));
    const change = model.setTitle("t1", "req.ztb#2 Resize");
    assert.deepEqual([...(change.tasks as Set<string>)], ["t1"], "the row re-renders");
    model.applySnapshot(snapshot({ tasks: { total: 1, offset: 0, items: [task("t1", { state: "succeeded", finishedAt: T0 })] } }));
    assert.equal(taskNodes(model, "succeeded", 100, T0)[0]?.label, "req.ztb#2 Resize");
  });
});

describe("extension task filter", () => {
  const model = new BrokerModel(100);
  model.applySnapshot(
    snapshot({
      counters: counters({ requests: 4 }),
      workers: [worker("w1", { name: "resizer-1" })],
      tasks: {
        total: 4,
        offset: 0,
        items: [
          task("a", { service: "resize", state: "failed", reason: "timeout", worker: "w1", finishedAt: T0 }),
          task("b", { service: "resize", state: "succeeded", worker: "w1", finishedAt: T0 }),
          task("c", { service: "mail", state: "failed", reason: "worker-failed", message: "SMTP down", finishedAt: T0 }),
          task("d", { service: "mail", state: "queued", preview: { text: "invoice 42" } }),
        ],
      },
    }),
  );

  it("parses service:, worker:, state: and words, and says what is wrong", () => {
    assert.deepEqual(filter("service:resize  state:failed Timeout"), { service: "resize", state: "failed", words: ["timeout"] });
    assert.deepEqual(parseTaskFilter("   "), { ok: true, filter: undefined });
    assert.deepEqual(parseTaskFilter("state:done"), { ok: false, message: "state:done is not a task state (queued, running, succeeded, failed, cancelled)" });
    assert.equal(parseTaskFilter("service:").ok, false);
    assert.equal(parseTaskFilter("service:a service:b").ok, false);
    assert.equal(formatTaskFilter(filter("smtp worker:w1")), "worker:w1 smtp");
  });

  it("matches a worker by name or id, words anywhere in label, id, reason and message", () => {
    const a = model.task("a");
    assert.ok(a);
    assert.ok(taskMatches(a, filter("worker:resizer-1"), "hello", "resizer-1"));
    assert.ok(taskMatches(a, filter("worker:w1"), "hello", "resizer-1"));
    assert.ok(!taskMatches(a, filter("worker:other"), "hello", "resizer-1"));
    assert.ok(taskMatches(a, filter("TIMEOUT hello"), "hello", undefined));
  });

  it("the tree shows only groups with matches, counted against what the group holds", () => {
    const groups = taskGroupNodes(model, filter("state:failed"));
    assert.deepEqual(groups.map((g) => `${g.label} ${g.description}`), ["Failed 2 of 2"]);
    assert.deepEqual(taskNodes(model, "failed", 100, T0, filter("smtp")).map((n) => n.taskId), ["c"]);
    assert.deepEqual(taskGroupNodes(model, filter("service:mail")).map((g) => `${g.label} ${g.description}`), ["Queued 1 of 1", "Failed 1 of 2"]);
    assert.deepEqual(taskGroupNodes(model, filter("invoice")).map((g) => g.label), ["Queued"]);
    assert.deepEqual(taskGroupNodes(model, filter("nothing-matches")), []);
    assert.equal(taskGroupNodes(model).length, 5, "no filter: every group");
  });
});

describe("extension Clear Finished", () => {
  it("forgets finished tasks and keeps them out of later snapshots; queued and running stay", () => {
    const model = new BrokerModel(100);
    const items = [
      task("s", { state: "succeeded", finishedAt: T0 + 10 }),
      task("f", { state: "failed", finishedAt: T0 + 20 }),
      task("q", { state: "queued" }),
    ];
    model.applySnapshot(snapshot({ tasks: { total: 3, offset: 0, items } }));
    const change = model.clearFinished();
    assert.deepEqual([...change.groups].sort(), ["failed", "succeeded"]);
    assert.deepEqual(model.tasks().map((t) => t.id), ["q"]);
    model.applySnapshot(snapshot({ tasks: { total: 3, offset: 0, items } }));
    assert.deepEqual(model.tasks().map((t) => t.id), ["q"], "a re-snapshot does not bring them back");
    model.applyEvent(event(11, { tasks: [task("q", { state: "succeeded", finishedAt: T0 + 30 })] }));
    assert.deepEqual(model.tasks().map((t) => `${t.id} ${t.state}`), ["q succeeded"], "a task finishing later shows");
  });
});

describe("extension cluster display", () => {
  const cluster = { name: "eu", broker: "b2", connected: true, services: { resize: { waiting: 12, running: 3 }, mail: { waiting: 0, running: 1 } } };
  const input = (model: BrokerModel): BrokerViewInput => ({ state: "running", owned: true, model, admin: "tcp://127.0.0.1:4164", lastError: undefined });

  it("shows a Cluster NAME (connected) item with each service's depth across the cluster", () => {
    const model = new BrokerModel(100);
    const base = snapshot();
    model.applySnapshot({ ...base, broker: { ...base.broker, cluster } } as typeof base);
    const roots = brokerRootNodes(input(model));
    const item = roots.find((n) => n.id === "broker:cluster");
    assert.equal(item?.label, "Cluster eu (connected)");
    assert.equal(item?.description, "as b2 · 2 services");
    assert.equal(roots[1]?.id, "broker:cluster", "right under the broker's state");
    assert.deepEqual(brokerChildNodes(input(model), "broker:cluster").map((n) => `${n.label}: ${n.description}`), [
      "mail: 0 waiting · 1 running",
      "resize: 12 waiting · 3 running",
    ]);
  });

  it("says not connected, and shows nothing without --cluster or with a malformed member", () => {
    const model = new BrokerModel(100);
    const base = snapshot();
    model.applySnapshot({ ...base, broker: { ...base.broker, cluster: { ...cluster, connected: false } } } as typeof base);
    assert.equal(brokerRootNodes(input(model)).find((n) => n.id === "broker:cluster")?.label, "Cluster eu (not connected)");
    model.applySnapshot(snapshot());
    assert.equal(brokerRootNodes(input(model)).some((n) => n.id === "broker:cluster"), false);
    assert.equal(clusterOf({ ...base.broker, cluster: { name: 3 } } as unknown as typeof base.broker), undefined);
  });
});

describe("extension live chart series", () => {
  it("turns cumulative counters into tasks per second and carries queue depth forward", () => {
    const rates = new RateSeries(10);
    const at = (s: number): number => T0 + s * 1000;
    rates.observe(at(0), counters({ succeeded: 100, failed: 5, retried: 1 }), { resize: 4 });
    rates.observe(at(1) + 100, counters({ succeeded: 110, failed: 5, retried: 1 }));
    rates.observe(at(1) + 600, counters({ succeeded: 115, failed: 7, retried: 3 }), { resize: 2, mail: 1 });
    rates.observe(at(3), counters({ succeeded: 116, failed: 7, retried: 3 }));
    const series = rates.series(at(3));
    assert.equal(series.times.length, 10);
    assert.equal(series.times.at(-1), Math.floor(at(3) / 1000));
    assert.deepEqual(series.succeeded.slice(-4), [0, 15, 0, 1], "the first observation is a baseline, not a burst of 100");
    assert.deepEqual(series.failed.slice(-4), [0, 2, 0, 0]);
    assert.deepEqual(series.retried.slice(-4), [0, 2, 0, 0]);
    assert.deepEqual(series.queues.map((q) => [q.service, q.depth.slice(-4)]), [
      ["mail", [0, 1, 1, 1]],
      ["resize", [4, 2, 2, 2]],
    ]);
  });

  it("drops what left the window and takes no rate from a counter that went down (another broker)", () => {
    const rates = new RateSeries(5);
    rates.observe(T0, counters({ succeeded: 10 }));
    rates.observe(T0 + 1000, counters({ succeeded: 20 }));
    rates.observe(T0 + 2000, counters({ succeeded: 3 }));
    assert.deepEqual(rates.series(T0 + 2000).succeeded, [0, 0, 0, 10, 0]);
    assert.deepEqual(rates.series(T0 + 60_000).succeeded, [0, 0, 0, 0, 0]);
    rates.reset();
    rates.observe(T0 + 61_000, counters({ succeeded: 50 }));
    assert.deepEqual(rates.series(T0 + 61_000).succeeded.at(-1), 0, "after reset the first observation is a baseline");
  });

  it("counts queued tasks per service", () => {
    assert.deepEqual(queueDepths([task("a", { service: "x" }), task("b", { service: "x" }), task("c", { state: "running" })]), { x: 2 });
  });
});
