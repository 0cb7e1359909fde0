/**
 * protocol/spec.md §Scheduling rules 3–4: an attempt that times out is cancelled on its worker and retried on another
 * one; after -t attempts the client gets a failure (plain: one empty frame; enveloped: REPLY failed/timeout).
 */
import assert from "node:assert/strict";
import type { Dealer } from "zeromq";
import { json, Peers, ready, type RunningBroker, startBroker, texts } from "./harness";

interface Seen {
  worker: string;
  command: string;
  task: string;
  attempt?: number;
  reason?: string;
}

/** Records every TASK and CANCEL a silent worker receives, until its socket closes. */
async function record(name: string, socket: Dealer, seen: Seen[]): Promise<void> {
  while (!socket.closed) {
    let frames: Buffer[];
    try {
      frames = await socket.receive();
    } catch {
      continue; // receive timeout or closed: the loop condition decides
    }
    const command = frames[2]?.toString() ?? "";
    if (command === "TASK") seen.push({ worker: name, command, task: `${frames[3]}`, attempt: json(frames[4]).attempt as number });
    if (command === "CANCEL") seen.push({ worker: name, command, task: `${frames[3]}`, reason: json(frames[4]).reason as string });
  }
}

describe("server: timeouts, retries and exhaustion", () => {
  let broker: RunningBroker;
  const peers = new Peers();

  beforeEach(async () => {
    broker = await startBroker({ tries: 3, timeout: 60 });
  });
  afterEach(async () => {
    peers.closeAll();
    await broker.stop();
  });

  async function twoSilentWorkers(seen: Seen[]): Promise<Promise<void>[]> {
    const a = peers.dealer(broker.endpoints.workers);
    const b = peers.dealer(broker.endpoints.workers);
    await ready(a, "a");
    await ready(b, "b");
    return [record("a", a, seen), record("b", b, seen)];
  }

  it("retries a timed-out attempt on the other worker, then fails a plain client after 3 attempts", async () => {
    const seen: Seen[] = [];
    const recorders = await twoSilentWorkers(seen);
    const client = peers.request(broker.endpoints.clients);
    await client.send("job");
    const reply = await client.receive();
    assert.deepEqual(texts(reply), [""], "plain failure = one empty frame");

    const tasks = seen.filter((s) => s.command === "TASK");
    assert.deepEqual(tasks.map((t) => t.attempt), [1, 2, 3]);
    assert.equal(new Set(tasks.map((t) => t.task)).size, 1, "one task id for every attempt");
    assert.notEqual(tasks[0]?.worker, tasks[1]?.worker, "attempt 2 goes to the other worker");
    assert.notEqual(tasks[1]?.worker, tasks[2]?.worker, "attempt 3 goes back to the first one");
    const cancels = seen.filter((s) => s.command === "CANCEL");
    assert.ok(cancels.length >= 2, "each timed-out attempt before the last is cancelled on its worker");
    assert.ok(cancels.every((c) => c.reason === "timeout"));
    peers.closeAll();
    await Promise.all(recorders);
  });

  it("tells an enveloped client how the last attempt ended", async () => {
    const seen: Seen[] = [];
    const recorders = await twoSilentWorkers(seen);
    const client = peers.dealer(broker.endpoints.clients);
    await client.send(["", "ZTBC01", "REQUEST", JSON.stringify({ id: "r" }), "job"]);
    const reply = await client.receive();
    assert.deepEqual(texts(reply.slice(0, 3)), ["", "ZTBC01", "REPLY"]);
    const detail = json(reply[3]);
    assert.equal(detail.status, "failed");
    assert.equal(detail.reason, "timeout");
    assert.equal(detail.attempts, 3);
    assert.equal(detail.id, "r");
    assert.ok(typeof detail.elapsed === "number" && detail.elapsed >= 3 * 60, `elapsed ${String(detail.elapsed)}`);
    peers.closeAll();
    await Promise.all(recorders);
  });

  it("a legacy worker that never answers is retried on another legacy worker, whose answer wins", async () => {
    const silent = peers.request(broker.endpoints.workers);
    await silent.send("requesting task");
    const client = peers.request(broker.endpoints.clients);
    await client.send("job");
    const [task] = await silent.receive();
    assert.ok(task !== undefined);
    // The second worker asks only after the first holds the task, so it can only get it by a retry.
    const helper = peers.request(broker.endpoints.workers);
    const answers = peers.push(broker.endpoints.answers);
    await helper.send("requesting task");
    const [retried, payload] = await helper.receive();
    assert.equal(retried?.toString(), task.toString());
    assert.equal(payload?.toString(), "job");
    await answers.send([retried ?? "", "done"]);
    assert.deepEqual(texts(await client.receive()), ["done"]);
  });
});
