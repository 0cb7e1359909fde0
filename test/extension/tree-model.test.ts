import assert from "node:assert/strict";
import { BrokerModel } from "../../extension/src/model/broker-model";
import { allContextValues } from "../../extension/src/model/context-values";
import { coarseDuration, timestamp } from "../../extension/src/model/relative-time";
import {
  brokerChildNodes,
  brokerRootNodes,
  taskGroupNodes,
  taskNodes,
  parseTaskNodeId,
  workerNodes,
  type BrokerViewInput,
} from "../../extension/src/model/tree-model";
import { counters, event, snapshot, T0, task, worker } from "./fixtures";

function input(model: BrokerModel, over: Partial<BrokerViewInput> = {}): BrokerViewInput {
  return { state: "running", owned: true, model, admin: "tcp://127.0.0.1:4164", lastError: undefined, ...over };
}

describe("extension tree model", () => {
  const model = new BrokerModel(100);
  model.applySnapshot(
    snapshot({
      counters: counters({ queued: 1, running: 1, succeeded: 7, workers: 2, retried: 3 }),
      workers: [
        worker("w2", { name: "beta", state: "busy", held: 1, tasks: ["r1"], capacity: 4, done: 5, failed: 1 }),
        worker("w1", { name: "alpha", kind: "legacy", lastSeen: T0 - 95_000 }),
      ],
      tasks: {
        total: 4,
        offset: 0,
        items: [
          task("q1", { state: "queued", createdAt: T0 - 25_000 }),
          task("r1", { state: "running", worker: "w2", attempt: 2, dispatchedAt: T0 - 3000 }),
          task("s1", { state: "succeeded", worker: "w2", attempt: 1, finishedAt: T0 + 12 }),
          task("f1", { state: "failed", reason: "timeout", message: "too slow", attempt: 3, finishedAt: T0 + 6000 }),
        ],
      },
    }),
  );

  it("shows nothing when stopped (the welcome view takes over) and the error line after a failure", () => {
    assert.deepEqual(brokerRootNodes(input(model, { state: "stopped" })), []);
    const failed = brokerRootNodes(input(model, { state: "error", lastError: "cannot bind tcp://127.0.0.1:4161: Address in use" }));
    assert.equal(failed[0]?.label, "Broker failed");
    assert.match(failed[0]?.description ?? "", /Address in use/);
    assert.ok(failed.some((n) => n.command?.command === "ztb.showLog"));
  });

  it("shows starting and disconnected states", () => {
    assert.equal(brokerRootNodes(input(model, { state: "starting" }))[0]?.label, "Starting…");
    const down = brokerRootNodes(input(model, { state: "disconnected" }));
    assert.equal(down[0]?.label, "Disconnected");
    assert.match(down[0]?.description ?? "", /re-attaching to tcp:\/\/127.0.0.1:4164/);
  });

  it("shows the broker's state, endpoints and counters", () => {
    const roots = brokerRootNodes(input(model));
    assert.equal(roots[0]?.label, "Broker running");
    assert.match(roots[0]?.description ?? "", /started here/);
    assert.match(brokerRootNodes(input(model, { state: "attached", owned: false }))[0]?.description ?? "", /attached/);
    const counterRows = brokerChildNodes(input(model), "broker:counters");
    const byLabel = Object.fromEntries(counterRows.map((n) => [n.label, n.description]));
    assert.equal(byLabel["Queued"], "1");
    assert.equal(byLabel["Succeeded"], "7");
    assert.equal(byLabel["Retried"], "3");
    assert.equal(byLabel["Workers"], "2");
    const endpoints = brokerChildNodes(input(model), "broker:endpoints").map((n) => `${n.label} ${n.description}`);
    assert.deepEqual(endpoints, ["Clients tcp://*:4161", "Workers tcp://*:4162", "Answers tcp://*:4163", "Admin tcp://127.0.0.1:4164"]);
    const settings = brokerChildNodes(input(model), "broker:settings").map((n) => `${n.label} ${n.description}`);
    assert.deepEqual(settings, ["Tries 3", "Timeout 2.0 s", "Heartbeat 1.0 s", "Max queue unbounded"]);
  });

  it("says whether the broker is durable, and its fsync policy when it is", () => {
    const durable = new BrokerModel(10);
    const info = snapshot().broker;
    durable.applySnapshot(snapshot({ broker: { ...info, durable: true, fsync: "batch" } }));
    assert.match(brokerRootNodes(input(durable))[0]?.description ?? "", /· durable$/);
    const row = brokerChildNodes(input(durable), "broker:settings").find((n) => n.id === "broker:setting:durability");
    assert.equal(`${row?.label} ${row?.description}`, "Tasks durable journal, fsync batch");
    const memory = new BrokerModel(10);
    memory.applySnapshot(snapshot({ broker: { ...info, durable: false } }));
    assert.match(brokerRootNodes(input(memory))[0]?.description ?? "", /· in memory$/);
    assert.equal(brokerChildNodes(input(memory), "broker:settings").find((n) => n.id === "broker:setting:durability")?.description, "in memory (lost when the broker stops)");
    // A ZTB/1.0 broker does not say: nothing is claimed.
    assert.doesNotMatch(brokerRootNodes(input(model))[0]?.description ?? "", /durable|memory/);
  });

  it("lists workers by name with kind, load, totals and a coarse last-seen", () => {
    const nodes = workerNodes(model, T0);
    assert.deepEqual(nodes.map((n) => n.label), ["alpha", "beta"]);
    assert.equal(nodes[0]?.contextValue, "idleLegacyWorker");
    assert.equal(nodes[1]?.contextValue, "busyModernWorker");
    assert.equal(nodes[1]?.description, "modern · busy 1/4 · 5 done · 1 failed · seen <10s ago");
    assert.match(nodes[0]?.description ?? "", /seen 1m ago$/);
    assert.equal(nodes[1]?.workerId, "w2");
    assert.match(nodes[1]?.tooltip ?? "", /Holding 1 of 4: r1/);
  });

  it("groups tasks by state with counts, noting history the extension no longer holds", () => {
    const groups = taskGroupNodes(model);
    assert.deepEqual(
      groups.map((g) => `${g.label} ${g.description}`),
      ["Running 1", "Queued 1", "Failed 1", "Cancelled 0", "Succeeded 1 (of 7)"],
    );
    assert.deepEqual(groups.map((g) => g.contextValue), ["runningTaskGroup", "queuedTaskGroup", "failedTaskGroup", "cancelledTaskGroup", "succeededTaskGroup"]);
  });

  it("shows no groups before the broker had a task (the welcome text shows), and groups once it had one", () => {
    const empty = new BrokerModel(100);
    empty.applySnapshot(snapshot());
    assert.deepEqual(taskGroupNodes(empty), []);
    const forgotten = new BrokerModel(100);
    forgotten.applySnapshot(snapshot({ counters: counters({ requests: 3, succeeded: 3 }) }));
    assert.deepEqual(taskGroupNodes(forgotten).map((g) => `${g.label} ${g.description}`).at(-1), "Succeeded 0 (of 3)");
  });

  it("gives a task that changes group a row id of its new group, so no id is in two groups", () => {
    const moving = new BrokerModel(100);
    moving.applySnapshot(snapshot({ tasks: { total: 1, offset: 0, items: [task("x", { state: "running", attempt: 1 })] } }));
    const before = taskNodes(moving, "running", 100, T0)[0];
    moving.applyEvent(event(11, { tasks: [task("x", { state: "succeeded", attempt: 1, finishedAt: T0 + 5 })] }));
    const after = taskNodes(moving, "succeeded", 100, T0)[0];
    assert.ok(before && after);
    assert.notEqual(after.id, before.id);
    assert.deepEqual(parseTaskNodeId(after.id), { state: "succeeded", taskId: "x" });
    const ids = (["queued", "running", "succeeded", "failed", "cancelled"] as const).flatMap((st) => taskNodes(model, st, 100, T0).map((n) => n.id));
    assert.equal(new Set(ids).size, ids.length);
  });

  it("describes each task: service, attempt n/max, worker, time, reason; tooltip has timestamps and the failure", () => {
    const running = taskNodes(model, "running", 100, T0)[0];
    assert.equal(running?.label, "hello", "the first payload frame when no request-file block named it");
    assert.equal(running?.contextValue, "runningTask");
    assert.equal(running?.description, "default · attempt 2/3 · beta · running <10s · r1");
    const queued = taskNodes(model, "queued", 100, T0)[0];
    assert.equal(queued?.description, "default · attempt 0/3 · waiting 20s · q1");
    const failed = taskNodes(model, "failed", 100, T0)[0];
    assert.equal(failed?.contextValue, "failedTask");
    assert.equal(failed?.description, "default · attempt 3/3 · took 6.0 s · timeout · f1");
    assert.match(failed?.tooltip ?? "", /Failure reason: timeout — too slow/);
    assert.match(failed?.tooltip ?? "", /Created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
    assert.equal(taskNodes(model, "succeeded", 100, T0)[0]?.description, "default · attempt 1/3 · beta · took 12 ms · s1");
  });

  it("pages a long group with a Load more… node", () => {
    const big = new BrokerModel(1000);
    const items = Array.from({ length: 250 }, (_, i) => task(`t${i}`, { state: "succeeded", createdAt: T0 + i }));
    big.applySnapshot(snapshot({ tasks: { total: 250, offset: 0, items } }));
    const page = taskNodes(big, "succeeded", 100, T0);
    assert.equal(page.length, 101);
    assert.equal(page[0]?.taskId, "t249");
    const more = page[100];
    assert.equal(more?.contextValue, "loadMoreTasks");
    assert.deepEqual(more?.command?.arguments, ["succeeded"]);
    assert.equal(taskNodes(big, "succeeded", 300, T0).length, 250);
  });

  it("produces only context values listed in context-values.ts", () => {
    const all = new Set(allContextValues());
    const produced = [
      ...brokerRootNodes(input(model)),
      ...brokerRootNodes(input(model, { state: "error" })),
      ...["broker:counters", "broker:endpoints", "broker:settings"].flatMap((p) => brokerChildNodes(input(model), p)),
      ...workerNodes(model, T0),
      ...taskGroupNodes(model),
      ...(["queued", "running", "succeeded", "failed", "cancelled"] as const).flatMap((s) => taskNodes(model, s, 0, T0)),
    ];
    for (const node of produced) assert.ok(all.has(node.contextValue), node.contextValue);
  });

  it("shows times in the local time zone, readable", () => {
    const zone = process.env["TZ"];
    try {
      process.env["TZ"] = "Europe/Paris";
      assert.equal(timestamp(T0), "2023-11-14 23:13:20");
      process.env["TZ"] = "America/New_York";
      assert.match(taskNodes(model, "failed", 100, T0)[0]?.tooltip ?? "", /^Created 2023-11-14 17:13:20$/m);
    } finally {
      if (zone === undefined) delete process.env["TZ"];
      else process.env["TZ"] = zone;
    }
  });

  it("keeps relative times coarse", () => {
    assert.equal(coarseDuration(9_999), "<10s");
    assert.equal(coarseDuration(19_000), "10s");
    assert.equal(coarseDuration(59_999), "50s");
    assert.equal(coarseDuration(61_000), "1m");
    assert.equal(coarseDuration(3 * 3600_000), "3h");
    assert.equal(coarseDuration(50 * 3600_000), "2d");
  });
});
