import assert from "node:assert/strict";
import { TaskTable, asciiFrame } from "../../broker/src/core/task-table";

function newTask(table: TaskTable) {
  return table.create({
    service: "s",
    origin: "plain",
    client: undefined,
    payload: [],
    maxAttempts: null,
    timeout: null,
    createdAt: 0,
    key: undefined,
  });
}

describe("core structures: TaskTable", () => {
  it("finds a task by its exact id only, as a string or as a frame", () => {
    const table = new TaskTable("k3f9q2");
    let task = newTask(table);
    while (task.seq < 10 + 36) task = newTask(table); // a two-digit base-36 counter, "1a"
    assert.equal(task.id, "k3f9q2-1a");
    assert.equal(table.get("k3f9q2-1a"), task);
    assert.equal(table.byFrame(asciiFrame("k3f9q2-1a")), task);
    // Other spellings of the same counter, other nonces and non-ASCII look-alikes name no task.
    for (const other of ["k3f9q2-1A", "k3f9q2-01a", "k3f9q3-1a", "k3f9q2-", "k3f9q2", "k3f9q2_1a", "k3f9q2-1a ", "k3f9q2-\u0131a", "\u016b3f9q2-1a"]) {
      assert.equal(table.get(other), undefined, other);
      assert.equal(table.byFrame(Buffer.from(other, "utf8")), undefined, other);
    }
    assert.equal(table.get("k3f9q2-zzzzzzzzzzz"), undefined);
  });

  it("keeps each state's tasks in order of entry; a detached task stays findable, a forgotten one does not", () => {
    const table = new TaskTable("n");
    const [a, b, c] = [newTask(table), newTask(table), newTask(table)];
    table.setState(b, "running");
    table.setState(a, "running");
    assert.deepEqual(table.inState("queued"), [c]);
    assert.deepEqual(table.inState("running"), [b, a]);
    assert.deepEqual(table.page("running", 1, 5), [a]);
    assert.deepEqual(table.page(undefined, 0, 5), [a, b, c]);
    for (const task of [a, b, c]) table.setState(task, "succeeded");
    assert.equal(table.oldest("succeeded"), a);
    table.forget(a);
    table.detach(b);
    assert.equal(table.get(a.id), undefined);
    assert.equal(table.get(b.id), b);
    assert.deepEqual(table.inState("succeeded"), [c]);
    assert.deepEqual(table.page(undefined, 0, 5), [c]);
    assert.equal(table.count("succeeded"), 1);
    assert.equal(table.count(), 1);
    assert.equal(table.count("running"), 0);
    assert.equal(table.size, 2);
  });

  it("restores tasks with their own counters and ids; new tasks continue after the highest", () => {
    const table = new TaskTable("n");
    const init = { service: "s", origin: "plain" as const, client: undefined, payload: [], maxAttempts: 3, timeout: null, createdAt: 0, key: "k" };
    const restored = table.restore({ ...init, seq: 40, state: "failed", attempts: 3 });
    assert.equal(restored.id, "n-14");
    assert.equal(restored.state, "failed");
    assert.equal(restored.attempts, 3);
    assert.deepEqual(table.inState("failed"), [restored]);
    assert.throws(() => table.restore({ ...init, seq: 40, state: "queued", attempts: 0 }), /restored twice/);
    assert.equal(newTask(table).id, "n-15");
  });
});
