/**
 * Overload (protocol/spec.md §Limits): clients send far faster than the one slow worker can serve. The broker (a real
 * `ztb broker` process with --max-queue) keeps at most --max-queue tasks waiting, answers the rest at once with
 * queue-full, stays under a fixed memory bound, and every request gets exactly one reply.
 */
import assert from "node:assert/strict";
import { Client, PlainClient } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { AdminMonitor } from "../chaos/admin-monitor";
import { type BrokerProcess, residentBytes, spawnBroker } from "../chaos/broker-process";

const MAX_QUEUE = 500;
const RSS_BOUND = 160 * 1024 * 1024;
const PAYLOAD = Buffer.alloc(1024, 0x78);

describe("limits: overload", function () {
  this.timeout(60_000);
  let broker: BrokerProcess | undefined;
  const closers: (() => unknown)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await broker?.stop();
  });

  it("bounds the queue and memory and still answers every request exactly once", async () => {
    broker = await spawnBroker(["--max-queue", String(MAX_QUEUE), "--log-level", "error"]);
    const { endpoints, pid } = broker;
    const monitor = new AdminMonitor(endpoints.admin);
    closers.push(() => monitor.close());
    await monitor.start();
    const worker = new Worker({
      endpoint: endpoints.workers,
      capacity: 2,
      handler: async (task) => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        return task.payload[0] ?? "";
      },
    });
    closers.push(() => worker.close());
    const registered = new Promise<void>((resolve) => worker.on("status", (s) => s.type === "ready" && resolve()));
    worker.start();
    await registered;

    let peakQueued = 0;
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakQueued = Math.max(peakQueued, monitor.counters?.queued ?? 0);
      peakRss = Math.max(peakRss, residentBytes(pid) ?? 0);
    }, 50);
    closers.push(() => clearInterval(sampler));

    const clients = [new Client({ endpoint: endpoints.clients }), new Client({ endpoint: endpoints.clients })];
    const plain = new PlainClient({ endpoint: endpoints.clients });
    closers.push(...clients.map((c) => () => c.close()), () => plain.close());
    const outcomes = new Map<string, number>();
    const count = (what: string): void => void outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
    const enveloped = clients.flatMap((client, c) =>
      Array.from({ length: 2000 }, async (_, i) => {
        const reply = await client.request([`e${c}-${i}`, PAYLOAD], { id: `e${c}-${i}`, deadline: 40_000 });
        assert.equal(reply.id, `e${c}-${i}`);
        if (reply.status === "succeeded") assert.equal(Buffer.from(reply.payload[0] ?? []).toString(), `e${c}-${i}`);
        count(reply.status === "succeeded" ? "succeeded" : String(reply.reason));
      }),
    );
    const plains = Array.from({ length: 1000 }, async (_, i) => {
      const reply = await plain.request([`p-${i}`, PAYLOAD], { deadline: 40_000 });
      count(reply.ok ? "succeeded" : "plain failure");
    });
    await Promise.all([...enveloped, ...plains]);
    peakRss = Math.max(peakRss, residentBytes(pid) ?? 0);

    const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
    const report = JSON.stringify(Object.fromEntries(outcomes));
    assert.equal(total, 5000, report);
    assert.ok((outcomes.get("queue-full") ?? 0) > 0, `the worker kept up, no overload: ${report}`);
    assert.deepEqual([...outcomes.keys()].filter((k) => !["succeeded", "queue-full", "plain failure"].includes(k)), [], report);
    assert.equal(clients[0]?.stats.duplicates ?? 1, 0);
    assert.ok(peakQueued <= MAX_QUEUE, `${peakQueued} tasks queued`);
    assert.ok(peakRss < RSS_BOUND, `broker RSS ${peakRss} bytes`);
    const snapshot = await monitor.snapshot();
    assert.equal(snapshot.counters.replies, 5000);
    assert.equal(snapshot.counters.queued + snapshot.counters.running, 0);
  });
});
