/**
 * The JetStream work queue against one real nats-server (R1): each ZTB/1 attempt ending maps onto one settlement,
 * and nothing is delivered unless a broker asks. Each test has its own cluster name, hence its own stream.
 */
import { strict as assert } from "node:assert";
import { RetentionPolicy, StorageType } from "@nats-io/jetstream";
import {
  clusterNames,
  FetchError,
  StreamConflictError,
  StreamSetupError,
  takeExhausted,
  TaskTooLargeError,
  watchMaxDeliveries,
  WorkQueue,
  type ClusterConnection,
  type MaxDeliveries,
} from "../../broker/src/cluster";
import { connectTo, fetchOne, freshClusterName, openQueue, task, testSettings, text } from "./fixtures";
import { NatsCluster, waitFor } from "./nats-harness";

describe("cluster: JetStream work queue (one nats-server)", function () {
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

  async function stored(queue: WorkQueue): Promise<number> {
    return (await conn.jsm.streams.info(queue.names.stream)).state.messages;
  }

  it("stores a task published twice with one idempotency key once, and reports the second as a duplicate", async () => {
    const queue = await openQueue(conn, "dup");
    const first = await queue.publish(task("t1", { key: "order 17 ✓" }));
    const second = await queue.publish(task("t2", { key: "order 17 ✓" }));
    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.equal(second.seq, first.seq);
    assert.equal(second.msgId, first.msgId);
    assert.equal(await stored(queue), 1);
    const leased = await fetchOne(queue);
    assert.equal(leased.record.task, "t1");
    await leased.ack();
  });

  it("stores tasks without a key separately (a generated Msg-Id each)", async () => {
    const queue = await openQueue(conn, "nokey");
    const a = await queue.publish(task("t1"));
    const b = await queue.publish(task("t2"));
    assert.notEqual(a.msgId, b.msgId);
    assert.equal(b.duplicate, false);
    assert.equal(await stored(queue), 2);
  });

  it("delivers nothing until asked, then exactly as many tasks as asked for", async () => {
    const queue = await openQueue(conn, "ask");
    for (const id of ["t1", "t2", "t3"]) await queue.publish(task(id));
    const consumer = await queue.consumer("default");
    const before = await consumer.info(false);
    assert.equal(before.delivered.stream_seq, 0, "nothing delivered before a fetch");
    assert.deepEqual(await queue.depth("default"), { waiting: 3, running: 0 });

    const { tasks } = await queue.fetch("default", 1, 1000);
    assert.deepEqual(tasks.map((t) => t.record.task), ["t1"]);
    assert.deepEqual(await queue.depth("default"), { waiting: 2, running: 1 });

    const two = await queue.fetch("default", 2, 1000);
    assert.deepEqual(two.tasks.map((t) => t.record.task), ["t2", "t3"]);
    for (const leased of [...tasks, ...two.tasks]) await leased.ack();
    assert.deepEqual(await queue.depth("default"), { waiting: 0, running: 0 });
    assert.equal(await stored(queue), 0, "acked tasks leave the work-queue stream");
  });

  it("gives a service's fetch only that service's tasks, from one stream shared by every service", async () => {
    const queue = await openQueue(conn, "svc");
    await queue.publish(task("r1", { service: "resize" }));
    await queue.publish(task("o1", { service: "ocr" }));
    await queue.publish(task("r2", { service: "resize" }));
    const ocr = await queue.fetch("ocr", 3, 1000);
    assert.deepEqual(ocr.tasks.map((t) => t.record.task), ["o1"]);
    const resize = await queue.fetch("resize", 3, 1000);
    assert.deepEqual(resize.tasks.map((t) => t.record.task), ["r1", "r2"]);
    assert.deepEqual(await queue.depth("resize"), { waiting: 0, running: 2 });
    assert.deepEqual(await queue.depth("ocr"), { waiting: 0, running: 1 });
    for (const leased of [...ocr.tasks, ...resize.tasks]) await leased.ack();
    assert.equal(await stored(queue), 0);
  });

  it("carries the task's metadata and frames unchanged, whatever the service name", async () => {
    const queue = await openQueue(conn, "meta");
    const service = "img.resize * > ü/\\ x";
    const sent = task("k3f9q2-1a", {
      service,
      key: "r-17",
      timeout: 5000,
      attempts: 3,
      client: "\u0000\u0001peer path",
      payload: [Buffer.alloc(0), Buffer.from([0, 255, 10]), Buffer.from("third")],
    });
    await queue.publish(sent);
    const leased = await fetchOne(queue, service);
    assert.deepEqual({ ...leased.record, payload: leased.record.payload.map((f) => [...f]) }, { ...sent, payload: sent.payload.map((f) => [...f]) });
    assert.equal(leased.deliveryCount, 1);
    await leased.ack();
  });

  it("redelivers a nak'ed task at once with deliveryCount 2", async () => {
    const queue = await openQueue(conn, "nak");
    await queue.publish(task("t1"));
    await queue.publish(task("t2"));
    const first = await fetchOne(queue);
    assert.deepEqual([first.record.task, first.deliveryCount], ["t1", 1]);
    first.nak();
    // A nak is not confirmed, so a fetch racing it may get t2 first (seen here under load): JetStream's redelivery
    // queue goes before new messages only once the nak is processed. Both come, each with its own count.
    const seen = [await fetchOne(queue), await fetchOne(queue)];
    assert.deepEqual(seen.map((t) => `${t.record.task}#${t.deliveryCount}`).sort(), ["t1#2", "t2#1"]);
    assert.equal(seen.find((t) => t.record.task === "t1")?.streamSeq, first.streamSeq);
    for (const leased of seen) await leased.ack();
  });

  it("redelivers a task nak'ed with a delay after that delay, long before its lease would", async () => {
    const queue = await openQueue(conn, "nakdelay", { lease: 60_000 });
    await queue.publish(task("t1"));
    const first = await fetchOne(queue);
    first.nak(500);
    const again = await fetchOne(queue, "default", 20); // at most ~20 s of pulls: well inside the 60 s lease
    assert.deepEqual([again.record.task, again.deliveryCount], ["t1", 2]);
    await again.ack();
  });

  it("stops delivering after max_deliver, announces it by advisory, and the task can then be taken out", async () => {
    const queue = await openQueue(conn, "maxd", { maxDeliver: 2 });
    const advisories: MaxDeliveries[] = [];
    const sub = watchMaxDeliveries(conn, queue.names, (advisory) => advisories.push(advisory));
    try {
      await conn.nc.flush(); // the subscription is registered before anything can be announced
      await queue.publish(task("poison"));
      const first = await fetchOne(queue);
      first.nak();
      const second = await fetchOne(queue);
      assert.equal(second.deliveryCount, 2, "the last delivery says it is the last (2 of max_deliver 2)");
      second.nak();
      // The server notices the limit when it next looks for a message for a pull request: keep one open.
      await waitFor(
        async () => {
          const { tasks } = await queue.fetch("default", 1, 1000);
          assert.deepEqual(tasks.map((t) => t.deliveryCount), [], "no third delivery");
          return advisories.length > 0;
        },
        15_000,
        () => "no MAX_DELIVERIES advisory",
      );
      assert.deepEqual(advisories[0], { stream: queue.names.stream, consumer: queue.names.consumer("default"), streamSeq: first.streamSeq, deliveries: 2 });
      assert.deepEqual(await queue.depth("default"), { waiting: 0, running: 0 });
      assert.equal(await stored(queue), 1, "JetStream leaves an exhausted task in the stream");

      const taken = await takeExhausted(conn, queue.names, first.streamSeq);
      assert.equal(taken?.task, "poison");
      assert.equal(await stored(queue), 0);
      assert.equal(await takeExhausted(conn, queue.names, first.streamSeq), null, "a second broker taking it gets nothing");
    } finally {
      sub.unsubscribe();
    }
  });

  it("gives an unsettled task to another fetch after the lease, but not while working() renews it", async () => {
    const lease = 2000;
    const queue = await openQueue(conn, "lease", { lease });

    // Without renewal: the lease runs out and the task comes back (a dead broker's task).
    await queue.publish(task("abandoned"));
    const abandoned = await fetchOne(queue);
    const back = await fetchOne(queue, "default", 15);
    assert.equal(back.record.task, "abandoned");
    assert.equal(back.deliveryCount, 2);
    assert.equal(abandoned.streamSeq, back.streamSeq);
    await back.ack();

    // With renewal every lease/10 for 2.5 leases: no other fetch gets it (a live broker's task without -T).
    await queue.publish(task("held"));
    const held = await fetchOne(queue);
    const renew = setInterval(() => held.working(), lease / 10);
    try {
      const meanwhile = await queue.fetch("default", 1, 2.5 * lease);
      assert.deepEqual(meanwhile.tasks.map((t) => t.record.task), [], "renewed task redelivered");
    } finally {
      clearInterval(renew);
    }
    await held.ack();
    const info = await (await queue.consumer("default")).info(false);
    assert.equal(info.num_redelivered, 0, "only the abandoned task was ever redelivered, and it is acked");
    assert.equal(await stored(queue), 0);
  });

  it("never delivers a terminated task again: it leaves the stream", async () => {
    const queue = await openQueue(conn, "term", { lease: 1000 });
    await queue.publish(task("t1"));
    await queue.publish(task("t2"));
    const first = await fetchOne(queue);
    first.term();
    const next = await fetchOne(queue);
    assert.equal(next.record.task, "t2", "the terminated task is not delivered again");
    await next.ack();
    await waitFor(async () => (await stored(queue)) === 0, 10_000, () => "terminated task still stored");
    const { tasks } = await queue.fetch("default", 1, 2500);
    assert.deepEqual(tasks.map((t) => t.record.task), [], "not even after the lease");
  });

  it("creates a service's consumer again when it was deleted behind its back (after one failed fetch)", async () => {
    const queue = await openQueue(conn, "gone");
    await queue.publish(task("t1"));
    await queue.consumer("default");
    await conn.jsm.consumers.delete(queue.names.stream, queue.names.consumer("default"));
    await assert.rejects(queue.fetch("default", 1, 1000), FetchError);
    const leased = await fetchOne(queue);
    assert.equal(leased.record.task, "t1");
    await leased.ack();
  });

  it("refuses a task larger than the stream's maximum message size, before publishing", async () => {
    const queue = await openQueue(conn, "big", { maxMessageSize: 1000 });
    await assert.rejects(queue.publish(task("t1", { payload: [Buffer.alloc(2000)] })), (error: unknown) => {
      assert.ok(error instanceof TaskTooLargeError);
      assert.equal(error.limit, 1000);
      return true;
    });
    assert.equal(await stored(queue), 0);
  });

  it("refuses a stream of its name made by another tool with other settings, and leaves it unchanged", async () => {
    const names = clusterNames(freshClusterName("foreign"));
    await conn.jsm.streams.add({
      name: names.stream,
      subjects: [names.streamSubjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.Memory,
    });
    await assert.rejects(WorkQueue.open(conn, names, testSettings()), (error: unknown) => {
      assert.ok(error instanceof StreamConflictError);
      assert.equal(error.stream, names.stream);
      assert.deepEqual(error.differences.map((d) => d.split(" ")[0]), ["retention", "storage", "max_msg_size"]);
      assert.ok(!error.message.includes("\n"), "one line");
      return true;
    });
    const after = await conn.jsm.streams.info(names.stream);
    assert.equal(after.config.retention, RetentionPolicy.Limits);
  });

  it("fails with one line when another stream already holds the cluster's subjects", async () => {
    const names = clusterNames(freshClusterName("overlap"));
    await conn.jsm.streams.add({ name: `OTHER_${names.cluster}`, subjects: [`ztb.${names.cluster}.>`] });
    await assert.rejects(WorkQueue.open(conn, names, testSettings()), (error: unknown) => {
      assert.ok(error instanceof StreamSetupError, String(error));
      assert.ok(!error.message.includes("\n") && error.message.includes(names.stream), error.message);
      return true;
    });
  });

  it("refuses a service consumer made with another lease or max_deliver (brokers of one cluster must agree)", async () => {
    const names = clusterNames(freshClusterName("agree"));
    const a = await WorkQueue.open(conn, names, testSettings({ lease: 2000, maxDeliver: 3 }));
    await a.consumer("default");
    // Refused at open (every consumer already there is checked), not only at the first pull.
    await assert.rejects(WorkQueue.open(conn, names, testSettings({ lease: 5000, maxDeliver: 3 })), (error: unknown) => {
      assert.ok(error instanceof StreamConflictError);
      assert.deepEqual(error.differences.map((d) => d.split(" ")[0]), ["ack_wait"]);
      return true;
    });
    const same = await WorkQueue.open(conn, names, testSettings({ lease: 2000, maxDeliver: 3 }));
    await same.publish(task("t1"));
    assert.equal(text((await fetchOne(same)).record.payload[0]), "payload of t1");
  });
});
