/**
 * Two brokers' drivers over one nats-server, driven by the requests a core would emit: a task accepted by broker A
 * is served by broker B, whose reply reaches A and is kept for A's next lookup; a task whose last delivery's broker
 * vanished is taken out and handed to a broker that is still alive.
 */
import { strict as assert } from "node:assert";
import {
  clusterNames,
  ClusterDriver,
  KeptResults,
  WorkQueue,
  type ClusterConnection,
  type ClusterEvent,
  type ClusterReply,
} from "../../broker/src/cluster";
import { connectTo, freshClusterName, task, testSettings, text } from "./fixtures";
import { NatsCluster, waitFor } from "./nats-harness";

type Kind = ClusterEvent["kind"];

/** A driver plus every event it emitted, and a bounded wait for the next one of a kind. */
class Broker {
  readonly events: ClusterEvent[] = [];
  readonly driver: ClusterDriver;

  constructor(conn: ClusterConnection, readonly queue: WorkQueue, results: KeptResults, readonly id: string) {
    this.driver = new ClusterDriver({ conn, queue, results, brokerId: id, pullExpires: 1000, emit: (event) => this.events.push(event) });
  }

  async next<K extends Kind>(kind: K, from = 0): Promise<Extract<ClusterEvent, { kind: K }>> {
    let found: ClusterEvent | undefined;
    await waitFor(
      () => (found = this.events.slice(from).find((event) => event.kind === kind)) !== undefined,
      15_000,
      () => `${this.id}: no ${kind} event (had ${this.events.map((e) => e.kind).join(", ")})`,
    );
    return found as Extract<ClusterEvent, { kind: K }>;
  }
}

describe("cluster: the driver between a core's requests and JetStream", function () {
  this.timeout(30_000);
  let nats: NatsCluster;
  let connA: ClusterConnection;
  let connB: ClusterConnection;

  before(async () => {
    nats = await NatsCluster.start({ nodes: 1 });
    connA = await connectTo(nats, "broker-a");
    connB = await connectTo(nats, "broker-b");
  });

  after(async () => {
    await connA?.close();
    await connB?.close();
    await nats?.stop();
  });

  async function brokers(label: string, maxDeliver: number | null, lease = 1000): Promise<[Broker, Broker]> {
    const names = clusterNames(freshClusterName(label));
    const settings = testSettings({ lease, maxDeliver });
    const make = async (conn: ClusterConnection, id: string) =>
      new Broker(conn, await WorkQueue.open(conn, names, settings), await KeptResults.open(conn, names, { ttl: 60_000, replicas: 1 }), id);
    return [await make(connA, "a"), await make(connB, "b")];
  }

  it("serves on broker B a task accepted by broker A, and brings the reply back to A", async () => {
    const [a, b] = await brokers("drv", 3);
    try {
      await Promise.all([connA.nc.flush(), connB.nc.flush()]);
      a.driver.perform({ kind: "cluster-publish", task: task("a-1", { origin: "a", key: "k1" }) });
      assert.equal((await a.next("cluster-published")).duplicate, false);

      b.driver.perform({ kind: "cluster-fetch", service: "default", count: 1 });
      const fetched = await b.next("cluster-fetched");
      assert.equal(fetched.tasks.length, 1);
      const [got] = fetched.tasks;
      assert.equal(got?.task.origin, "a");
      assert.equal(got?.deliveryCount, 1);
      assert.equal(b.driver.held, 1);

      const lease = got?.lease ?? "";
      const reply: ClusterReply = { task: "a-1", service: "default", detail: { status: "succeeded", attempts: 1, worker: "w" }, payload: [Buffer.from("answer")] };
      b.driver.perform({ kind: "cluster-settle", lease, ack: true, keep: { key: "k1", reply } });
      b.driver.perform({ kind: "cluster-reply", origin: got?.task.origin ?? "", reply });
      assert.equal(b.driver.held, 0);

      const received = (await a.next("cluster-reply-received")).reply;
      assert.deepEqual([received.task, received.detail, text(received.payload[0])], ["a-1", reply.detail, "answer"]);
      a.driver.perform({ kind: "cluster-await-result", service: "default", key: "k1" });
      const kept = await a.next("cluster-result");
      assert.deepEqual([kept.key, kept.reply.task, text(kept.reply.payload[0])], ["k1", "a-1", "answer"]);
      // B's ack is confirmed asynchronously: A sees the queue empty once the server has processed it.
      await waitFor(
        async () => {
          const from = a.events.length;
          a.driver.perform({ kind: "cluster-depth", services: ["default"] });
          const depth = (await a.next("cluster-depth", from)).depth.default;
          assert.equal(depth?.waiting, 0);
          return depth.running === 0;
        },
        10_000,
        () => "the acked task still counts as running",
      );
      assert.deepEqual(b.events.filter((e) => e.kind.endsWith("failed")), []);
    } finally {
      a.driver.close();
      b.driver.close();
    }
  });

  it("keeps a fetched task with its broker by renewing the lease on its own, until the core naks it", async () => {
    const lease = 2000;
    const [a, b] = await brokers("renew", null, lease);
    try {
      a.driver.perform({ kind: "cluster-publish", task: task("a-3", { origin: "a" }) });
      await a.next("cluster-published");
      b.driver.perform({ kind: "cluster-fetch", service: "default", count: 1 });
      const lease3 = (await b.next("cluster-fetched")).tasks[0]?.lease ?? "";

      // Broker A keeps asking for 2.5 leases (five 1 s pulls): B's own renewal (every lease/3, nothing asked by B's
      // core) keeps the task with B.
      for (let pulls = 0; pulls < 5; pulls++) {
        const from = a.events.length;
        a.driver.perform({ kind: "cluster-fetch", service: "default", count: 1 });
        assert.equal((await a.next("cluster-fetch-ended", from)).unfilled, 1, "taken from a live broker");
      }
      b.driver.perform({ kind: "cluster-nak", lease: lease3, delay: 0 });
      const from = a.events.length;
      a.driver.perform({ kind: "cluster-fetch", service: "default", count: 1 });
      const back = await a.next("cluster-fetched", from);
      assert.deepEqual(back.tasks.map((t) => [t.task.task, t.deliveryCount]), [["a-3", 2]]);
      a.driver.perform({ kind: "cluster-settle", lease: back.tasks[0]?.lease ?? "", ack: true, keep: undefined });
    } finally {
      a.driver.close();
      b.driver.close();
    }
  });

  it("hands a task whose last delivery's broker vanished to a live broker, once, to answer its client", async () => {
    const [a, b] = await brokers("exh", 1);
    try {
      await Promise.all([connA.nc.flush(), connB.nc.flush()]);
      a.driver.perform({ kind: "cluster-publish", task: task("a-2", { origin: "a" }) });
      await a.next("cluster-published");
      b.driver.perform({ kind: "cluster-fetch", service: "default", count: 1 });
      assert.equal((await b.next("cluster-fetched")).tasks[0]?.deliveryCount, 1, "the first delivery is the last (max_deliver 1)");
      b.driver.close(); // broker B dies holding it: no settlement, its lease runs out

      // A keeps a pull open, as a broker with a free worker does; the server then notices the exhausted task.
      await waitFor(
        async () => {
          const from = a.events.length;
          a.driver.perform({ kind: "cluster-fetch", service: "default", count: 1 });
          assert.equal((await a.next("cluster-fetch-ended", from)).unfilled, 1, "no second delivery");
          return a.events.some((event) => event.kind === "cluster-exhausted");
        },
        15_000,
        () => "no cluster-exhausted event",
      );
      const exhausted = await a.next("cluster-exhausted");
      assert.equal(exhausted.task.task, "a-2");
      assert.equal(exhausted.deliveries, 1);
      assert.equal((await connA.jsm.streams.info(a.queue.names.stream)).state.messages, 0, "taken out of the stream");
      assert.equal(a.events.filter((event) => event.kind === "cluster-exhausted").length, 1);
    } finally {
      a.driver.close();
    }
  });

  it("keeps waiting for a kept result across a NATS restart (a failed watch is started again)", async () => {
    const [a, b] = await brokers("watch", 3);
    try {
      a.driver.perform({ kind: "cluster-await-result", service: "default", key: "k-restart" });
      await nats.kill(0);
      await waitFor(() => a.events.some((e) => e.kind === "cluster-warning"), 15_000, () => "the watch never failed");
      nats.node(0).start();
      await nats.waitReady();
      await waitFor(() => connB.nc.isClosed() === false && connB.nc.info !== undefined, 15_000, () => "B never reconnected");
      const reply: ClusterReply = { task: "a-9", service: "default", detail: { status: "succeeded", attempts: 1 }, payload: [Buffer.from("late")] };
      await waitFor(
        async () => {
          b.driver.perform({ kind: "cluster-keep", key: "k-restart", reply });
          await new Promise((resolve) => setTimeout(resolve, 300));
          return a.events.some((e) => e.kind === "cluster-result");
        },
        20_000,
        () => `no cluster-result after NATS came back (had ${a.events.map((e) => e.kind).join(", ")})`,
      );
      const result = await a.next("cluster-result");
      assert.deepEqual([result.key, text(result.reply.payload[0])], ["k-restart", "late"]);
    } finally {
      a.driver.close();
      b.driver.close();
    }
  });
});
