/**
 * protocol/spec.md §Limits over real sockets: `--max-queue` waiting tasks per service (a request beyond it gets
 * REPLY failed/queue-full, a plain one the empty failure frame), and the bounded history of finished tasks.
 */
import assert from "node:assert/strict";
import { FRAME_COST } from "../../broker/src/core/retention";
import { adminCall, json, Peers, ready, receiveCommand, type RunningBroker, snapshotCounters, startBroker, texts } from "../server/harness";

describe("limits: queue length per service and task history", () => {
  let broker: RunningBroker;
  const peers = new Peers();

  afterEach(async () => {
    peers.closeAll();
    await broker.stop();
  });

  it("fails a request beyond --max-queue with queue-full, per service and for unserved services together, and serves the queued ones", async () => {
    broker = await startBroker({ maxQueue: 2 });
    const client = peers.dealer(broker.endpoints.clients);
    const request = (id: string, service = "default") =>
      client.send(["", "ZTBC01", "REQUEST", JSON.stringify({ id, service }), id]);
    await request("a");
    await request("b");
    await request("c");
    const full = await client.receive();
    assert.deepEqual(texts(full.slice(0, 3)), ["", "ZTBC01", "REPLY"]);
    assert.deepEqual(
      (({ status, reason, id, attempts }) => ({ status, reason, id, attempts }))(json(full[3])),
      { status: "failed", reason: "queue-full", id: "c", attempts: 0 },
    );
    // Rule 9: no worker serves either service yet, so they share one --max-queue: an invented service gets no room.
    await request("x", "other");
    const shared = json((await client.receive())[3]);
    assert.deepEqual([shared.id, shared.reason], ["x", "queue-full"]);
    assert.match(String(shared.message), /no worker serves "other"/);
    const plain = peers.request(broker.endpoints.clients);
    await plain.send("d");
    assert.deepEqual(texts(await plain.receive()), [""], "plain mode: the empty failure frame");

    const worker = peers.dealer(broker.endpoints.workers);
    await ready(worker, "w");
    for (const expected of ["a", "b"]) {
      const task = await receiveCommand(worker, "TASK");
      assert.equal(task[5]?.toString(), expected);
      await worker.send(["", "ZTBW01", "RESULT", task[3] ?? "", `done ${expected}`]);
      const reply = await client.receive();
      assert.equal(json(reply[3]).id, expected);
      assert.equal(json(reply[3]).status, "succeeded");
    }
    const admin = peers.dealer(broker.endpoints.admin ?? "");
    const counters = await snapshotCounters(admin);
    assert.equal(counters.rejected, 3);
    assert.equal(counters.queued, 0);
  });

  it("keeps only --history finished tasks; older ones are gone from SNAPSHOT and INSPECT", async () => {
    broker = await startBroker({ history: 5 });
    const legacy = peers.request(broker.endpoints.workers);
    const answers = peers.push(broker.endpoints.answers);
    const client = peers.request(broker.endpoints.clients);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      await legacy.send("requesting task");
      await client.send(`job ${i}`);
      const [task] = await legacy.receive();
      ids.push(task?.toString() ?? "");
      await answers.send([task ?? "", `done ${i}`]);
      assert.deepEqual(texts(await client.receive()), [`done ${i}`]);
    }
    const admin = peers.dealer(broker.endpoints.admin ?? "");
    const snapshot = json((await adminCall(admin, "SNAPSHOT", { tasks: { limit: 500 } }))[3]) as {
      counters: { succeeded: number };
      tasks: { total: number; items: { id: string }[] };
    };
    assert.equal(snapshot.tasks.total, 5);
    assert.deepEqual(snapshot.tasks.items.map((t) => t.id).sort(), ids.slice(15).sort());
    assert.equal(snapshot.counters.succeeded, 20, "counters still count everything");
    const gone = await adminCall(admin, "INSPECT", { task: ids[0] });
    assert.equal(gone[2]?.toString(), "ERROR");
    assert.equal(json(gone[3]).code, "unknown-task");
  });

  it("keeps each history within --history-bytes: large payloads and many empty frames both count (issue 14 #1)", async () => {
    const MiB = 1024 * 1024;
    broker = await startBroker({ history: 1000, historyBytes: MiB });
    const worker = peers.dealer(broker.endpoints.workers);
    await ready(worker, "echo");
    const client = peers.dealer(broker.endpoints.clients);
    const admin = peers.dealer(broker.endpoints.admin ?? "");
    const succeeded = async (): Promise<{ total: number; items: { id: string; size: number }[] }> =>
      (json((await adminCall(admin, "SNAPSHOT", { tasks: { state: "succeeded", limit: 500 } }))[3]).tasks as { total: number; items: { id: string; size: number }[] });
    /** One request through an echo worker: its payload and its reply are both kept with the task. */
    const roundTrip = async (id: string, payload: Buffer[]): Promise<void> => {
      await client.send(["", "ZTBC01", "REQUEST", JSON.stringify({ id }), ...payload]);
      const task = await receiveCommand(worker, "TASK");
      await worker.send(["", "ZTBW01", "RESULT", task[3] ?? "", ...task.slice(5)]);
      assert.equal(json((await client.receive())[3]).status, "succeeded");
    };

    // 300 KiB each way: a task costs ~600 KiB, so a 1 MiB history holds one (before the bound: all eight).
    for (let i = 0; i < 8; i++) await roundTrip(`big-${i}`, [Buffer.alloc(300 * 1024, i)]);
    const big = await succeeded();
    assert.equal(big.total, 1);
    assert.equal(big.items[0]?.size, 300 * 1024);

    // 200 empty frames each way: no octets, but 400 frames at FRAME_COST each (~160 KB): six fit in 1 MiB.
    for (let i = 0; i < 20; i++) await roundTrip(`frames-${i}`, Array.from({ length: 200 }, () => Buffer.alloc(0)));
    const frames = await succeeded();
    assert.equal(frames.total, Math.floor(MiB / (400 * FRAME_COST)));
    assert.ok(frames.items.every((t) => t.size === 0));
    const counters = await snapshotCounters(admin);
    assert.equal(counters.succeeded, 28, "counters still count everything");
  });
});
