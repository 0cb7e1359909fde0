/**
 * NATS lost while a broker runs: the adapter reports the loss, publishing fails with PublishError (the broker's cue
 * to refuse requests), and once the server is back the connection is reported back and publishing works again.
 */
import { strict as assert } from "node:assert";
import { PublishError, watchConnection, type ClusterConnection, type ConnectionChange } from "../../broker/src/cluster";
import { connectTo, openQueue, task } from "./fixtures";
import { NatsCluster, waitFor } from "./nats-harness";

describe("cluster: NATS lost and back while running", function () {
  this.timeout(60_000);
  let nats: NatsCluster;
  let conn: ClusterConnection;

  before(async () => {
    nats = await NatsCluster.start({ nodes: 1 });
    conn = await connectTo(nats);
  });

  after(async () => {
    await conn?.close();
    await nats?.stop();
  });

  it("reports the connection lost, refuses publishes meanwhile, and reports it back after the server restarts", async () => {
    const queue = await openQueue(conn, "lost");
    await queue.publish(task("before"));
    const changes: ConnectionChange[] = [];
    const watch = watchConnection(conn, (change) => changes.push(change));
    try {
      await nats.kill(0);
      await waitFor(() => changes.some((c) => c.kind === "cluster-disconnected"), 15_000, () => "no cluster-disconnected");
      await assert.rejects(queue.publish(task("during"), 1000), PublishError);

      await nats.restart(0);
      await waitFor(() => changes.some((c) => c.kind === "cluster-reconnected"), 30_000, () => `no cluster-reconnected (${JSON.stringify(changes)})`);
      await waitFor(
        async () => {
          try {
            await queue.publish(task("after"));
            return true;
          } catch (error) {
            if (!(error instanceof PublishError)) throw error;
            return false; // JetStream may need a moment after the server is back
          }
        },
        15_000,
        () => "publishing did not resume",
      );
      assert.deepEqual(changes.slice(0, 2).map((c) => c.kind), ["cluster-disconnected", "cluster-reconnected"]);
      // "during" failed, yet its bytes may have left in the library's reconnect buffer: stored or not, which is why a
      // broker retries a failed publish with the same Msg-Id. "before" and "after" are certain.
      const { tasks } = await queue.fetch("default", 3, 1000);
      const ids = tasks.map((t) => t.record.task);
      assert.ok(ids.includes("before") && ids.includes("after"), JSON.stringify(ids));
    } finally {
      watch.stop();
    }
  });
});
