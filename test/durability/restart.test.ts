/**
 * `ztb broker --data DIR` killed with SIGKILL and restarted on the same directory and endpoints (protocol/spec.md
 * §Durability): real broker processes, real sockets, the real SQLite journal.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Request } from "zeromq";
import { Client, ClientTimeoutError, type Reply } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { AdminMonitor } from "../chaos/admin-monitor";
import { type BrokerProcess, spawnBroker } from "../chaos/broker-process";

const ARGS = ["-t", "3", "--heartbeat", "200", "--log-level", "error"];

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting until ${what}`);
}

function echoWorker(endpoint: string, seen?: Map<string, number>): Worker {
  const worker = new Worker({
    endpoint,
    name: "echo",
    capacity: 4,
    heartbeat: 200,
    reconnect: { initial: 20, max: 200 },
    handler: async (task) => {
      const text = Buffer.from(task.payload[0] ?? []).toString();
      seen?.set(text, (seen.get(text) ?? 0) + 1);
      return [Buffer.from(`done ${text}`)];
    },
  });
  worker.start();
  return worker;
}

describe("durability: a broker killed with SIGKILL and restarted on its --data directory", function () {
  this.timeout(60_000);
  let dir: string;
  const brokers: BrokerProcess[] = [];
  const closers: (() => unknown)[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-durable-"));
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    for (const broker of brokers.splice(0)) await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function broker(endpoints?: BrokerProcess["endpoints"]): Promise<BrokerProcess> {
    const b = await spawnBroker(["--data", dir, ...ARGS], endpoints);
    brokers.push(b);
    return b;
  }

  async function monitor(b: BrokerProcess): Promise<AdminMonitor> {
    const m = new AdminMonitor(b.endpoints.admin);
    await m.start();
    closers.push(() => m.close());
    return m;
  }

  it("answers prototype-style REQ clients with routing ids after the restart, queued and running tasks alike, with no resend", async () => {
    const first = await broker();
    // A worker that holds its task until the broker dies: that task is running at the kill.
    const holder = new Worker({
      endpoint: first.endpoints.workers,
      name: "holder",
      heartbeat: 200,
      reconnect: { initial: 5000, max: 5000 },
      handler: (task) => new Promise((_, reject) => task.signal.addEventListener("abort", () => reject(task.signal.reason))),
    });
    holder.start();
    closers.push(() => holder.close());
    const clients: Request[] = [];
    const replies: Promise<string>[] = [];
    for (let i = 0; i < 6; i++) {
      const req = new Request({ routingId: `req-${i}`, linger: 0 });
      req.connect(first.endpoints.clients);
      clients.push(req);
      closers.push(() => req.close());
      await req.send(`job ${i}`);
      replies.push(req.receive().then((frames) => frames.map((f) => f.toString()).join("|")));
    }
    const m1 = await monitor(first);
    // A SNAPSHOT is sent after the commit of everything before it: what it shows is in the journal.
    await until("6 tasks are accepted, one running", async () => {
      const c = (await m1.snapshot()).counters;
      return c.queued === 5 && c.running === 1;
    });
    first.child.kill("SIGKILL");
    await first.exited;
    m1.close();
    await holder.close();

    const second = await broker(first.endpoints);
    const m2 = await monitor(second);
    const recovered = await m2.snapshot();
    assert.equal(recovered.broker.durable, true);
    assert.equal(recovered.counters.requests, 6);
    assert.equal(recovered.tasks.items.filter((t) => t.attempt === 1).length, 1, "the interrupted attempt is counted");
    const worker = echoWorker(second.endpoints.workers);
    closers.push(() => worker.close());
    const got = await Promise.all(replies);
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5].map((i) => `done job ${i}`));
    const after = await m2.snapshot();
    assert.equal(after.counters.succeeded, 6);
    assert.equal(after.counters.requests, 6, "no task was created twice");
  });

  it("a client that resends with its key after each kill gets one result per key", async () => {
    let current = await broker();
    const executions = new Map<string, number>();
    const workerAt = (b: BrokerProcess): Worker => {
      const w = echoWorker(b.endpoints.workers, executions);
      closers.push(() => w.close());
      return w;
    };
    let worker = workerAt(current);
    const endpoints = current.endpoints;
    const results = new Map<string, Reply>();
    const keys = Array.from({ length: 40 }, (_, i) => `order-${i}`);

    const sendAll = async (): Promise<void> => {
      for (const key of keys) {
        for (;;) {
          const client = new Client({ endpoint: endpoints.clients, deadline: 1500 });
          try {
            const reply = await client.request([Buffer.from(key)], { key });
            const earlier = results.get(key);
            if (earlier !== undefined) assert.equal(reply.task, earlier.task, `${key}: answered by another task`);
            results.set(key, reply);
            break;
          } catch (err) {
            if (!(err instanceof ClientTimeoutError)) throw err;
          } finally {
            client.close();
          }
        }
      }
    };
    const sending = sendAll();
    for (let kill = 0; kill < 3; kill++) {
      const target = 10 * (kill + 1);
      await until(`${target} keys answered`, () => results.size >= target, 30_000);
      current.child.kill("SIGKILL");
      await current.exited;
      await worker.close();
      current = await broker(endpoints);
      worker = workerAt(current);
    }
    await sending;
    assert.equal(results.size, keys.length);
    for (const key of keys) {
      const reply = results.get(key);
      assert.equal(reply?.status, "succeeded", key);
      assert.equal(Buffer.from(reply.payload[0] ?? []).toString(), `done ${key}`);
    }
    const m = await monitor(current);
    const counters = (await m.snapshot()).counters;
    assert.equal(counters.requests, keys.length, "one task per key, whatever was resent");
  });

  it("refuses a second broker on the same directory with one line, and the first keeps serving", async () => {
    const first = await broker();
    const second = spawnBroker(["--data", dir, ...ARGS]);
    await assert.rejects(second, /in use by another ztb broker \(its journal is locked\)/);
    const worker = echoWorker(first.endpoints.workers);
    closers.push(() => worker.close());
    const client = new Client({ endpoint: first.endpoints.clients, deadline: 5000 });
    closers.push(() => client.close());
    assert.equal((await client.request(["still here"])).status, "succeeded");
  });
});
