/**
 * A client given several brokers fails over (protocol/spec.md §Failing over): real `ztb broker` processes, SIGKILLed
 * or SIGSTOPped while requests are pending, real workers and the library Client over tcp.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client, type Reply } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, spawnBroker } from "../chaos/broker-process";
import { counters, deadEndpoint, until } from "./brokers";

const ARGS = ["--heartbeat", "200", "--log-level", "error"];
const REQUESTS = 20;

function text(reply: Reply): string {
  return Buffer.from(reply.payload[0] ?? []).toString();
}

describe("reliability: a client of several brokers fails over", function () {
  this.timeout(60_000);
  const brokers: BrokerProcess[] = [];
  const closers: (() => unknown)[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    for (const broker of brokers.splice(0)) {
      broker.child.kill("SIGCONT");
      await broker.stop();
    }
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function broker(args: string[] = [], endpoints?: BrokerProcess["endpoints"]): Promise<BrokerProcess> {
    const b = await spawnBroker([...ARGS, ...args], endpoints);
    brokers.push(b);
    return b;
  }

  /** A worker named `name` that answers with `name: payload`, or holds every task while `hold()` says so. */
  function worker(b: BrokerProcess, name: string, hold: () => boolean = () => false): Worker {
    const w = new Worker({
      endpoint: b.endpoints.workers,
      name,
      capacity: 4,
      heartbeat: 200,
      reconnect: { initial: 20, max: 200 },
      handler: async (task) => {
        if (hold()) await new Promise((_, reject) => task.signal.addEventListener("abort", () => reject(task.signal.reason)));
        return [Buffer.from(`${name}: ${Buffer.from(task.payload[0] ?? []).toString()}`)];
      },
    });
    w.start();
    closers.push(() => w.close());
    return w;
  }

  function client(endpoints: string[], options: Partial<ConstructorParameters<typeof Client>[0]> = {}): Client {
    const c = new Client({ endpoint: endpoints, deadline: 30_000, ...options });
    closers.push(() => c.close());
    return c;
  }

  it("SIGKILL of broker A with requests pending: each request gets exactly one reply, from B", async () => {
    const a = await broker();
    const b = await broker();
    worker(a, "on-a", () => true);
    worker(b, "on-b");
    await until("both workers registered", async () => (await counters(a)).workers === 1 && (await counters(b)).workers === 1);

    const c = client([a.endpoints.clients, b.endpoints.clients]);
    const settled = new Map<string, number>();
    const replies = Array.from({ length: REQUESTS }, (_, i) =>
      c.request(`r${i}`).finally(() => settled.set(`r${i}`, (settled.get(`r${i}`) ?? 0) + 1)),
    );
    await until("A holds every request", async () => (await counters(a)).requests === REQUESTS);
    assert.equal(settled.size, 0, "nothing answered before the kill");
    a.child.kill("SIGKILL");
    assert.equal(await a.exited, "SIGKILL");

    const answered = await Promise.all(replies);
    for (const [i, reply] of answered.entries()) {
      assert.equal(reply.status, "succeeded");
      assert.equal(text(reply), `on-b: r${i}`);
      assert.equal(reply.worker, "on-b");
    }
    assert.equal(c.endpoint, b.endpoints.clients);
    assert.equal((await counters(b)).requests, REQUESTS, "B ran each request once");
    // A duplicate would arrive after its first copy: give one a chance by a further round trip through B.
    assert.equal(text(await c.request("last")), "on-b: last");
    assert.deepEqual(
      { failovers: c.stats.failovers, resends: c.stats.resends, duplicates: c.stats.duplicates, late: c.stats.late },
      { failovers: 1, resends: REQUESTS, duplicates: 0, late: 0 },
    );
    assert.ok([...settled.values()].every((n) => n === 1));
  });

  it("a first endpoint nobody listens on is skipped; requests made before that are sent to the next", async () => {
    const b = await broker();
    worker(b, "on-b");
    const c = client([await deadEndpoint(), b.endpoints.clients]);
    const answered = await Promise.all(Array.from({ length: 5 }, (_, i) => c.request(`early ${i}`)));
    assert.deepEqual(answered.map(text), [0, 1, 2, 3, 4].map((i) => `on-b: early ${i}`));
    assert.equal(c.stats.failovers, 1);
  });

  it("a broker that stops answering ZMTP heartbeats (SIGSTOP) is left for the next", async () => {
    const a = await broker();
    const b = await broker();
    worker(a, "on-a");
    worker(b, "on-b");
    await until("both workers registered", async () => (await counters(a)).workers === 1 && (await counters(b)).workers === 1);
    const c = client([a.endpoints.clients, b.endpoints.clients], { failover: { heartbeatInterval: 100, heartbeatTimeout: 300 } });
    assert.equal(text(await c.request("before")), "on-a: before");

    a.child.kill("SIGSTOP");
    const reply = await c.request("while A is stopped");
    assert.equal(text(reply), "on-b: while A is stopped");
    assert.equal(c.stats.failovers, 1);
  });

  it("back to a restarted durable broker: the resend carries the same key and attaches to the recovered task", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-failover-"));
    dirs.push(dir);
    const first = await broker(["--data", dir]);
    let hold = true;
    worker(first, "durable", () => hold);
    await until("the worker registered", async () => (await counters(first)).workers === 1);
    // The second endpoint is down for good: the client goes round to the first again, after a back-off.
    const c = client([first.endpoints.clients, await deadEndpoint()]);
    const replies = Array.from({ length: REQUESTS }, (_, i) => c.request(`d${i}`));
    await until("the broker holds every request", async () => (await counters(first)).requests === REQUESTS);
    first.child.kill("SIGKILL");
    await first.exited;

    hold = false;
    const second = await broker(["--data", dir], first.endpoints);
    const answered = await Promise.all(replies);
    assert.deepEqual(answered.map(text), answered.map((_, i) => `durable: d${i}`));
    const after = await counters(second);
    // Each resend found the recovered task by its key: a new key would have made a new task.
    assert.equal(after.requests, REQUESTS, "no task was created twice");
    assert.equal(after.deduplicated, REQUESTS);
    assert.ok(c.stats.failovers >= 2, `A, the dead endpoint, then A again (${c.stats.failovers} failovers)`);
  });
});
