/** Kept results in a JetStream key-value bucket with a TTL, and replies over the origin broker's subject. */
import { strict as assert } from "node:assert";
import {
  clusterNames,
  KeptResults,
  listenForReplies,
  sendReply,
  StreamConflictError,
  type ClusterConnection,
} from "../../broker/src/cluster";
import { connectTo, freshClusterName, text } from "./fixtures";
import { NatsCluster, waitFor } from "./nats-harness";

describe("cluster: kept results and replies (one nats-server)", function () {
  this.timeout(30_000);
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

  it("keeps a result under a client's key and forgets it after the TTL", async () => {
    const results = await KeptResults.open(conn, clusterNames(freshClusterName("kv")), { ttl: 1000, replicas: 1 });
    assert.equal(await results.get("order 17"), null, "nothing kept yet");
    await results.put("order 17", Buffer.from("the reply"));
    assert.equal(text((await results.get("order 17")) ?? undefined), "the reply");
    assert.equal(await results.get("order 18"), null, "another key is not answered");
    await waitFor(async () => (await results.get("order 17")) === null, 15_000, () => "result still kept after its TTL");
  });

  it("refuses a results bucket of its name with another TTL", async () => {
    const names = clusterNames(freshClusterName("kvttl"));
    await KeptResults.open(conn, names, { ttl: 60_000, replicas: 1 });
    await assert.rejects(KeptResults.open(conn, names, { ttl: 5000, replicas: 1 }), (error: unknown) => {
      assert.ok(error instanceof StreamConflictError, String(error));
      assert.deepEqual(error.differences.map((d) => d.split(" ")[0]), ["ttl"]);
      return true;
    });
  });

  it("delivers a reply to the broker named as the task's origin, and only to it", async () => {
    const names = clusterNames(freshClusterName("reply"));
    const toA: string[] = [];
    const toB: string[] = [];
    const a = listenForReplies(conn, names, "broker-a", (reply) => toA.push(text(reply)));
    const b = listenForReplies(conn, names, "broker-b", (reply) => toB.push(text(reply)));
    try {
      await conn.nc.flush();
      sendReply(conn, names, "broker-a", Buffer.from("for a"));
      await waitFor(() => toA.length === 1, 10_000, () => "reply not received");
      await conn.nc.flush();
      assert.deepEqual([toA, toB], [["for a"], []]);
    } finally {
      a.unsubscribe();
      b.unsubscribe();
    }
  });
});
