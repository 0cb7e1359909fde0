/**
 * A nats-server killed with SIGKILL loses no task JetStream had acknowledged: on three nodes with R3 the stream's
 * leader dies and the two others carry on; on one node with R1 the server comes back with every task (its writes had
 * reached the operating system, though not the disk: DESIGN.md §Durability).
 */
import { strict as assert } from "node:assert";
import { AckError, FetchError, StreamSetupError, WorkQueue, type ClusterConnection } from "../../broker/src/cluster";
import { connectTo, openQueue, task } from "./fixtures";
import { NatsCluster, waitFor } from "./nats-harness";

/**
 * Fetches and acks until every id of `expected` was acked with the server's confirmation, or `timeout` ms passed.
 * Returns how many times each id was confirmed. Fetch and ack errors (a leader election in progress) are retried: an
 * unconfirmed ack brings the task back after its lease, which is at-least-once working as designed; a consumer read
 * that times out while the client reconnects is retried too.
 */
async function drain(queue: WorkQueue, expected: ReadonlySet<string>, timeout: number): Promise<Map<string, number>> {
  const confirmed = new Map<string, number>();
  let lastError = "";
  await waitFor(
    async () => {
      try {
        const { tasks } = await queue.fetch("default", 10, 1000);
        for (const leased of tasks) {
          try {
            await leased.ack();
            confirmed.set(leased.record.task, (confirmed.get(leased.record.task) ?? 0) + 1);
          } catch (error) {
            if (!(error instanceof AckError)) throw error;
            lastError = error.message;
          }
        }
      } catch (error) {
        if (!(error instanceof FetchError || error instanceof StreamSetupError)) throw error;
        lastError = error.message;
      }
      return [...expected].every((id) => confirmed.has(id));
    },
    timeout,
    () => `acked ${confirmed.size} of ${expected.size} (last error: ${lastError})`,
  );
  return confirmed;
}

async function publishAll(queue: WorkQueue, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const published = await queue.publish(task(id, { key: id }));
    assert.equal(published.duplicate, false);
  }
}

function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

describe("cluster: a nats-server node killed with SIGKILL", function () {
  this.timeout(60_000);

  describe("three nodes, R3", () => {
    let nats: NatsCluster;
    let conn: ClusterConnection;

    before(async () => {
      nats = await NatsCluster.start({ nodes: 3 });
      conn = await connectTo(nats);
    });

    after(async () => {
      await conn?.close();
      await nats?.stop();
    });

    it("keeps every published task: each is fetched and acked exactly once after the stream leader dies", async () => {
      const queue = await openQueue(conn, "r3", { replicas: 3, lease: 2000 });
      const before = ids("before", 30);
      await publishAll(queue, before);
      await queue.consumer("default"); // as a broker with a worker of the service has it before anything fails

      const info = await conn.jsm.streams.info(queue.names.stream);
      const leader = nats.nodes.findIndex((node) => node.name === info.cluster?.leader);
      assert.ok(leader >= 0, `stream leader ${info.cluster?.leader} is a harness node`);
      await nats.kill(leader);

      // Two nodes of three are a quorum: tasks are still taken in while one is down.
      const during = ids("during", 10);
      await waitFor(
        async () => {
          try {
            await queue.publish(task("probe", { key: "probe" }));
            return true;
          } catch {
            return false;
          }
        },
        30_000,
        () => "no stream leader elected among the two remaining nodes",
      );
      await publishAll(queue, during);

      const expected = new Set([...before, ...during, "probe"]);
      const confirmed = await drain(queue, expected, 40_000);
      assert.deepEqual([...confirmed.keys()].sort(), [...expected].sort(), "no task lost, none invented");
      const twice = [...confirmed].filter(([, count]) => count > 1);
      assert.deepEqual(twice, [], "no task acked twice");

      // The restarted node rejoins and its stream replica catches up. (Its consumer replica, on 2.9.10, stays "not
      // current" — and its /healthz unavailable — until the consumer next changes: not waited for here.)
      await nats.restart(leader);
      await waitFor(
        async () => {
          const now = await conn.jsm.streams.info(queue.names.stream);
          const replicas = now.cluster?.replicas ?? [];
          return now.state.messages === 0 && replicas.length === 2 && replicas.every((replica) => replica.current);
        },
        30_000,
        () => "the restarted node did not catch up with the stream",
      );
    });
  });

  describe("one node, R1", () => {
    let nats: NatsCluster;

    before(async () => {
      nats = await NatsCluster.start({ nodes: 1 });
    });

    after(async () => nats?.stop());

    it("comes back with every task it had acknowledged", async () => {
      const first = await connectTo(nats);
      const queue = await openQueue(first, "r1crash");
      const published = ids("t", 20);
      await publishAll(queue, published);
      await nats.kill(0);
      await first.close();
      await nats.restart(0);

      const second = await connectTo(nats);
      try {
        const again = await WorkQueue.open(second, queue.names, queue.settings);
        const confirmed = await drain(again, new Set(published), 20_000);
        assert.deepEqual([...confirmed.keys()].sort(), [...published].sort());
      } finally {
        await second.close();
      }
    });
  });
});
