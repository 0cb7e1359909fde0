/**
 * `ztb broker --cluster` (protocol/spec.md §Cluster mode): real broker processes over a real nats-server, real ZeroMQ
 * workers and clients. Two brokers share one queue; every ZTB/1 rule keeps its meaning across them.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Client, type Reply } from "../../broker/src/client";
import { NonRetryableError, Worker, type WorkerTask } from "../../broker/src/worker";
import { type BrokerProcess, CLI, spawnBroker } from "../chaos/broker-process";
import { freshClusterName } from "./fixtures";
import { NatsCluster, waitFor } from "./nats-harness";

const text = (frame: Uint8Array | undefined): string => Buffer.from(frame ?? []).toString();

/** What the test workers do, by payload: echo, hang, fail once (retryable), fail for good, or outlive -T by EXTEND. */
function behaviour(worker: () => Worker, seen: Map<string, number>, ids?: Map<string, string>) {
  return async (task: WorkerTask): Promise<Uint8Array[]> => {
    const payload = text(task.payload[0]);
    seen.set(payload, (seen.get(payload) ?? 0) + 1);
    ids?.set(payload, task.id);
    if (payload.startsWith("hang")) {
      await new Promise((_, reject) => task.signal.addEventListener("abort", () => reject(task.signal.reason as Error)));
    }
    if (payload.startsWith("fail-once") && task.attempt === 1) throw new Error("first attempt fails");
    if (payload.startsWith("fatal")) throw new NonRetryableError("cannot be done");
    if (payload.startsWith("slow")) {
      const end = Date.now() + 1500;
      while (Date.now() < end) {
        worker().extend(task.id, 800);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    return [Buffer.from(`done ${payload}`)];
  };
}

describe("cluster mode: several brokers over one JetStream queue", function () {
  this.timeout(90_000);
  let nats: NatsCluster;
  const brokers: BrokerProcess[] = [];
  const closers: (() => unknown)[] = [];

  before(async () => {
    nats = await NatsCluster.start({ nodes: 1 });
  });
  after(async () => {
    await nats?.stop();
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await Promise.all(brokers.splice(0).map((b) => b.stop()));
  });

  async function cluster(label: string, args: string[] = ["-t", "3", "-T", "1"]): Promise<[BrokerProcess, BrokerProcess]> {
    const name = freshClusterName(label);
    const start = (id: string) =>
      spawnBroker(["--cluster", nats.urls.join(","), "--cluster-name", name, "--broker-id", id, "--lease", "2s", "--heartbeat", "200", "--log-level", "info", ...args]);
    const a = await start("A");
    brokers.push(a);
    const b = await start("B");
    brokers.push(b);
    return [a, b];
  }

  function worker(broker: BrokerProcess, name: string, seen: Map<string, number>, capacity = 4, ids?: Map<string, string>): Worker {
    const w: Worker = new Worker({
      endpoint: broker.endpoints.workers,
      name,
      capacity,
      heartbeat: 200,
      reconnect: { initial: 20, max: 200 },
      handler: behaviour(() => w, seen, ids),
    });
    w.start();
    closers.push(() => w.close());
    return w;
  }

  /** A worker "wa" that never answers: it notes each task it starts, and each the broker cancels. */
  function hangingWorker(broker: BrokerProcess, started: string[], cancelled: string[]): Worker {
    const w = new Worker({
      endpoint: broker.endpoints.workers,
      name: "wa",
      heartbeat: 200,
      handler: (task) =>
        new Promise((_, reject) => {
          started.push(text(task.payload[0]));
          task.signal.addEventListener("abort", () => {
            cancelled.push(text(task.payload[0]));
            reject(task.signal.reason as Error);
          });
        }),
    });
    w.start();
    closers.push(() => w.close());
    return w;
  }

  function client(broker: BrokerProcess): Client {
    const c = new Client({ endpoint: broker.endpoints.clients, deadline: 30_000 });
    closers.push(() => c.close());
    return c;
  }

  it("serves on broker A's worker what clients of broker B ask, each request answered once", async () => {
    const [a, b] = await cluster("ab");
    const seen = new Map<string, number>();
    const ids = new Map<string, string>();
    worker(a, "wa", seen, 4, ids);
    const clients = [client(b), client(b), client(b)];
    const replies = await Promise.all(
      clients.flatMap((c, i) => Array.from({ length: 60 }, (_, n) => c.request([`r${i}-${n}`]).then((reply) => [`r${i}-${n}`, reply] as const))),
    );
    for (const [payload, reply] of replies) {
      assert.equal(reply.status, "succeeded", `${payload}: ${reply.reason ?? ""} ${reply.message ?? ""}`);
      assert.equal(text(reply.payload[0]), `done ${payload}`);
      assert.equal(reply.worker, "wa");
      assert.equal(reply.task, ids.get(payload), "the worker and the client see one task id");
    }
    assert.equal(seen.size, 180);
    assert.ok([...seen.values()].every((n) => n === 1), "each task ran once");
  });

  it("keeps workers and clients on both brokers apart from nothing: every request answered once", async () => {
    const [a, b] = await cluster("both");
    const seen = new Map<string, number>();
    worker(a, "wa", seen, 2);
    worker(b, "wb", seen, 2);
    const replies = await Promise.all(
      [client(a), client(b)].flatMap((c, i) => Array.from({ length: 80 }, (_, n) => c.request([`q${i}-${n}`]))),
    );
    assert.equal(replies.filter((r) => r.status === "succeeded").length, 160);
    assert.equal([...seen.values()].reduce((x, y) => x + y, 0), 160, "160 executions for 160 requests");
  });

  it("keeps timeouts, retryable and non-retryable FAIL, exhausted attempts and EXTEND as in one broker", async () => {
    const [a, b] = await cluster("rules", ["-t", "2", "-T", "1"]);
    const seen = new Map<string, number>();
    worker(a, "wa", seen);
    const c = client(b);
    const [hang, failOnce, fatal, slow] = await Promise.all([c.request(["hang"]), c.request(["fail-once"]), c.request(["fatal"]), c.request(["slow"])]);
    assert.deepEqual([hang.status, hang.reason, hang.attempts], ["failed", "timeout", 2]);
    assert.match(hang.message ?? "", /attempt 2 timed out/);
    assert.deepEqual([failOnce.status, failOnce.attempts, text(failOnce.payload[0])], ["succeeded", 2, "done fail-once"]);
    assert.deepEqual([fatal.status, fatal.reason, fatal.attempts, fatal.message], ["failed", "worker-failed", 1, "cannot be done"]);
    assert.deepEqual([slow.status, slow.attempts], ["succeeded", 1], "EXTEND kept a 1.5 s task alive under -T 1");
    assert.equal(seen.get("hang"), 2);
  });

  it("cancels a task running on the other broker when its client cancels", async () => {
    const [a, b] = await cluster("cancel", ["-t", "3"]);
    const started: string[] = [];
    const cancelled: string[] = [];
    hangingWorker(a, started, cancelled);
    const controller = new AbortController();
    const pending = client(b).request(["hang-cancel"], { signal: controller.signal });
    await waitFor(() => started.includes("hang-cancel"), 15_000, () => "the worker never got the task");
    controller.abort();
    const reply = await pending;
    assert.deepEqual([reply.status, reply.reason], ["failed", "cancelled"]);
    await waitFor(() => cancelled.includes("hang-cancel"), 15_000, () => "the worker was never told to cancel");
    assert.deepEqual(started, ["hang-cancel"]);
  });

  it("answers a resend of a key to another broker from the task already running, which runs once", async () => {
    const [a, b] = await cluster("resend");
    const seen = new Map<string, number>();
    worker(a, "wa", seen);
    const first = client(a).request(["slow-keyed"], { key: "order-1" });
    await waitFor(() => seen.has("slow-keyed"), 15_000, () => "the task never started");
    const again: Reply = await client(b).request(["slow-keyed"], { key: "order-1" });
    const original = await first;
    assert.equal(text(original.payload[0]), "done slow-keyed");
    assert.equal(text(again.payload[0]), "done slow-keyed");
    assert.equal(again.duplicate, true);
    assert.equal(seen.get("slow-keyed"), 1);
    const later = await client(b).request(["slow-keyed"], { key: "order-1" });
    assert.deepEqual([later.duplicate, text(later.payload[0]), seen.get("slow-keyed")], [true, "done slow-keyed", 1]);
  });

  it("gives a SIGKILLed broker's tasks to the other broker's workers after one lease", async () => {
    const [a, b] = await cluster("kill", ["-t", "3"]);
    const seenA = new Map<string, number>();
    const seenB = new Map<string, number>();
    worker(a, "wa", seenA, 4);
    const c = client(b);
    const replies = Array.from({ length: 4 }, (_, n) => c.request([`hang-${n}`]));
    await waitFor(() => seenA.size === 4, 15_000, () => `A's worker got ${seenA.size} of 4`);
    a.child.kill("SIGKILL");
    await a.exited;
    // B's new worker answers everything, hang or not.
    const wb = new Worker({ endpoint: b.endpoints.workers, name: "wb", capacity: 4, heartbeat: 200, handler: async (task) => {
      seenB.set(text(task.payload[0]), (seenB.get(text(task.payload[0])) ?? 0) + 1);
      return [Buffer.from("rescued")];
    } });
    wb.start();
    closers.push(() => wb.close());
    for (const reply of await Promise.all(replies)) {
      assert.deepEqual([reply.status, text(reply.payload[0]), reply.attempts, reply.worker], ["succeeded", "rescued", 2, "wb"]);
    }
    assert.equal(seenB.size, 4);
  });

  it("fails a client of a SIGKILLed broker over to the other broker: every request answered once, each task run once", async () => {
    const [a, b] = await cluster("failover", ["-t", "3"]);
    const seen = new Map<string, number>();
    worker(b, "wb", seen, 8);
    const c = new Client({ endpoint: [a.endpoints.clients, b.endpoints.clients], deadline: 30_000 });
    closers.push(() => c.close());
    const replies = Array.from({ length: 8 }, (_, n) => c.request([`slow-${n}`]));
    await waitFor(() => seen.size === 8, 15_000, () => `B's worker got ${seen.size} of 8`);
    a.child.kill("SIGKILL");
    for (const [n, reply] of (await Promise.all(replies)).entries()) {
      assert.deepEqual([reply.status, text(reply.payload[0])], ["succeeded", `done slow-${n}`]);
    }
    assert.ok([...seen.values()].every((count) => count === 1), `each task ran once: ${JSON.stringify([...seen])}`);
  });

  it("hands a task a leaving worker gives back to a worker of the other broker when none is left on its own", async () => {
    const [a, b] = await cluster("leave", ["-t", "3"]);
    const started: string[] = [];
    const wa = hangingWorker(a, started, []);
    const pending = client(b).request(["given-back"]);
    await waitFor(() => started.length === 1, 15_000, () => "A's worker never got the task");
    const seen = new Map<string, number>();
    worker(b, "wb", seen);
    await wa.leave(100);
    const reply = await pending;
    assert.deepEqual([reply.status, reply.worker, text(reply.payload[0])], ["succeeded", "wb", "done given-back"]);
    assert.equal(seen.get("given-back"), 1);
  });

  it("refuses requests with unavailable while NATS is lost, keeps its workers, and serves again when NATS is back", async () => {
    const [a] = await cluster("lost");
    const seen = new Map<string, number>();
    worker(a, "wa", seen);
    const c = client(a);
    assert.equal((await c.request(["before"])).status, "succeeded");
    await nats.kill(0);
    let refused: Reply | undefined;
    await waitFor(
      async () => {
        // A request sent in the instant NATS went away may also get no reply in time: try again.
        const reply = await c.request(["while-lost"], { deadline: 10_000 }).catch(() => undefined);
        if (reply?.reason === "unavailable") refused = reply;
        return refused !== undefined;
      },
      30_000,
      () => "never refused with unavailable",
    );
    assert.match(refused?.message ?? "", /NATS|cluster/);
    nats.node(0).start();
    await nats.waitReady();
    await waitFor(
      async () => (await c.request(["after"], { deadline: 10_000 }).catch(() => undefined))?.status === "succeeded",
      30_000,
      () => "never served again",
    );
    assert.equal(a.events.get("worker-lost"), undefined, "the worker stayed registered");
  });

  it("exits 2 with one line when NATS is unreachable, and when the stream has other settings", async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, "broker", ...args, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("exit", (code) => resolve({ code, stderr }));
      });
    const unreachable = await run(["--no-admin", "--cluster", "nats://127.0.0.1:1"]);
    assert.equal(unreachable.code, 2);
    assert.match(unreachable.stderr, /^ztb broker: cannot reach NATS at nats:\/\/127\.0\.0\.1:1 .*\n$/);
    const name = freshClusterName("conflict");
    const first = await spawnBroker(["--cluster", nats.urls[0] ?? "", "--cluster-name", name, "-t", "3"]);
    brokers.push(first);
    // A served request: the service's consumer (where -t lives, as max_deliver) now exists.
    worker(first, "w1", new Map());
    assert.equal((await client(first).request(["x"])).status, "succeeded");
    const other = await run(["--no-admin", "--cluster", nats.urls[0] ?? "", "--cluster-name", name, "-t", "5"]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /^ztb broker: .*exists with other settings \(max_deliver .*\n$/);
    assert.equal(other.stderr.split("\n").length, 2, "one line");
  });
});
