/**
 * Broker crash and restart (protocol/spec.md §Reliability, broker restart), with a real `ztb broker` process that is
 * SIGKILLed — unlike test/runtime/broker-restart.test.ts, which stops the broker gracefully (clients there get
 * failed/shutdown). A crash answers nobody: library clients must end in ClientTimeoutError rather than hang, workers
 * of both kinds must come back to the restarted broker on their own, and an answer naming a task of the old broker
 * (old boot nonce) is discarded as late.
 */
import assert from "node:assert/strict";
import { Push } from "zeromq";
import { Client, ClientTimeoutError, PlainClient } from "../../broker/src/client";
import { LegacyWorker, Worker } from "../../broker/src/worker";
import { AdminMonitor } from "../chaos/admin-monitor";
import { type BrokerProcess, spawnBroker } from "../chaos/broker-process";

const ARGS = ["-t", "2", "-T", "5", "--heartbeat", "200", "--log-level", "error"];

async function workersRegistered(monitor: AdminMonitor, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await monitor.snapshot()).counters.workers === count) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`${count} workers did not register`);
}

describe("reliability: broker killed and restarted", function () {
  this.timeout(30_000);
  const brokers: BrokerProcess[] = [];
  const closers: (() => unknown)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    for (const broker of brokers.splice(0)) await broker.stop();
  });

  it("clients time out instead of hanging; workers re-register; pre-restart answers are late", async () => {
    const first = await spawnBroker(ARGS);
    brokers.push(first);
    const endpoints = first.endpoints;
    let hold = true;
    const held: string[] = [];
    const started: (() => void)[] = [];
    const holding = (): Promise<void> => new Promise((resolve) => started.push(resolve));
    const worker = new Worker({
      endpoint: endpoints.workers,
      name: "modern",
      heartbeat: 200,
      reconnect: { initial: 20, max: 200 },
      handler: async (task) => {
        if (hold) {
          held.push(task.id);
          started.shift()?.();
          await new Promise((_, reject) => task.signal.addEventListener("abort", () => reject(task.signal.reason)));
        }
        return task.payload;
      },
    });
    const legacy = new LegacyWorker({
      workers: endpoints.workers,
      answers: endpoints.answers,
      reconnect: { initial: 20, max: 200 },
      handler: async (task) => {
        if (!hold) return task.payload;
        started.shift()?.();
        return null; // never answers: the prototype's way of failing
      },
    });
    const client = new Client({ endpoint: endpoints.clients });
    const plain = new PlainClient({ endpoint: endpoints.clients });
    closers.push(() => worker.close(), () => legacy.close(), () => client.close(), () => plain.close());
    let monitor = new AdminMonitor(endpoints.admin);
    await monitor.start();
    worker.start();
    legacy.start();
    await workersRegistered(monitor, 2);
    monitor.close();

    const bothHeld = Promise.all([holding(), holding()]);
    const enveloped = client.request("in flight", { deadline: 1500 });
    const plainly = plain.request("plain in flight", { deadline: 1500 });
    await bothHeld;
    assert.equal(held.length, 1, "one request on each worker");
    first.child.kill("SIGKILL");
    assert.equal(await first.exited, "SIGKILL");
    await assert.rejects(enveloped, ClientTimeoutError);
    await assert.rejects(plainly, ClientTimeoutError);

    hold = false;
    const second = await spawnBroker(ARGS, endpoints);
    brokers.push(second);
    monitor = new AdminMonitor(endpoints.admin);
    closers.push(() => monitor.close());
    await monitor.start();
    await workersRegistered(monitor, 2);

    const stale = new Push({ linger: 0 });
    closers.push(() => stale.close());
    stale.connect(endpoints.answers);
    await stale.send([held[0] ?? "missing", "answer from before the crash"]);

    const [reply, plainReply] = await Promise.all([
      client.request("after restart", { deadline: 5000 }),
      plain.request("plain after restart", { deadline: 5000 }),
    ]);
    assert.equal(reply.status, "succeeded");
    assert.deepEqual(Buffer.from(reply.payload[0] ?? []).toString(), "after restart");
    assert.ok(plainReply.ok);
    assert.deepEqual(Buffer.from(plainReply.payload[0] ?? []).toString(), "plain after restart");
    for (let i = 0; i < 100 && (await monitor.snapshot()).counters.late === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const counters = (await monitor.snapshot()).counters;
    assert.equal(counters.late, 1, "the old broker's task id matched nothing");
    assert.equal(counters.requests, 2, "the restarted broker knows nothing of the lost requests");
  });
});
