/**
 * Workers that break the rules over real sockets (protocol/spec.md §Scheduling rules 8, §What the receiver does):
 * a registered modern worker sending garbage is disconnected and its task re-dispatched; a RESULT for an unknown task
 * or another worker's task changes nothing; a peer reusing a connected worker's routing id is refused by libzmq.
 */
import assert from "node:assert/strict";
import { Dealer } from "zeromq";
import type { Counters } from "../../broker/src/protocol/messages";
import { json, Peers, ready, receiveCommand, RECEIVE_TIMEOUT, type RunningBroker, snapshotCounters, startBroker, texts } from "../server/harness";

describe("socket fuzz: misbehaving workers", () => {
  let broker: RunningBroker;
  const peers = new Peers();

  beforeEach(async () => {
    broker = await startBroker();
  });
  afterEach(async () => {
    peers.closeAll();
    await broker.stop();
  });

  function counters(): Promise<Counters> {
    return snapshotCounters(peers.dealer(broker.endpoints.admin ?? ""));
  }

  it("disconnects a registered worker that sends invalid JSON and gives its task to another worker", async () => {
    const bad = peers.dealer(broker.endpoints.workers);
    await ready(bad, "bad");
    const client = peers.request(broker.endpoints.clients);
    await client.send("job");
    const task = await receiveCommand(bad, "TASK");
    const good = peers.dealer(broker.endpoints.workers);
    await ready(good, "good");
    await bad.send(["", "ZTBW01", "FAIL", task[3] ?? "", "{not json"]);
    const disconnect = await receiveCommand(bad, "DISCONNECT");
    assert.deepEqual(json(disconnect[3]), { reason: "protocol-error", message: "ZTB_ERR_BAD_JSON" });
    const again = await receiveCommand(good, "TASK");
    assert.equal(again[3]?.toString(), task[3]?.toString());
    await good.send(["", "ZTBW01", "RESULT", again[3] ?? "", "done"]);
    assert.deepEqual(texts(await client.receive()), ["done"]);
    assert.equal((await counters()).malformed.worker, 1);
  });

  it("ignores a RESULT for an unknown task (late) and for another worker's task (foreign-task, no DISCONNECT)", async () => {
    const holder = peers.dealer(broker.endpoints.workers);
    await ready(holder, "holder");
    const thief = peers.dealer(broker.endpoints.workers);
    await ready(thief, "thief");
    const client = peers.request(broker.endpoints.clients);
    await client.send("job");
    // LRU: the holder registered first, so it gets the task.
    const task = await receiveCommand(holder, "TASK");
    await thief.send(["", "ZTBW01", "RESULT", task[3] ?? "", "stolen"]);
    await thief.send(["", "ZTBW01", "RESULT", "test-zzzz", "unknown"]);
    await thief.send(["", "ZTBW01", "HEARTBEAT", "1000"]);
    // Still registered: the next task goes to the thief (the holder is busy), so it was not disconnected.
    const second = peers.request(broker.endpoints.clients);
    await second.send("second job");
    const next = await receiveCommand(thief, "TASK");
    await holder.send(["", "ZTBW01", "RESULT", task[3] ?? "", "genuine"]);
    assert.deepEqual(texts(await client.receive()), ["genuine"]);
    await thief.send(["", "ZTBW01", "RESULT", next[3] ?? "", "second"]);
    assert.deepEqual(texts(await second.receive()), ["second"]);
    const c = await counters();
    assert.equal(c.malformed.worker, 1);
    assert.equal(c.late, 1);
  });

  it("a peer reusing a connected worker's routing id is refused: its RESULT never reaches the broker", async () => {
    const routingId = "worker-identity";
    const real = new Dealer({ routingId, linger: 0, receiveTimeout: RECEIVE_TIMEOUT });
    real.connect(broker.endpoints.workers);
    const impostor = new Dealer({ routingId, linger: 0, receiveTimeout: 200, sendTimeout: 200 });
    try {
      await ready(real, "real");
      const client = peers.request(broker.endpoints.clients);
      await client.send("job");
      const task = await receiveCommand(real, "TASK");
      impostor.connect(broker.endpoints.workers);
      // libzmq's ROUTER rejects a second connection with an identity in use (ZMQ_ROUTER_HANDOVER off): the send has
      // no peer to go to, or goes nowhere.
      await impostor.send(["", "ZTBW01", "RESULT", task[3] ?? "", "forged"]).catch(() => undefined);
      // Time for the forged RESULT to arrive if libzmq had let it in: it would then win, or be counted late.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await real.send(["", "ZTBW01", "RESULT", task[3] ?? "", "genuine"]);
      assert.deepEqual(texts(await client.receive()), ["genuine"]);
      const c = await counters();
      assert.deepEqual([c.late, c.malformed.worker], [0, 0]);
    } finally {
      real.close();
      impostor.close();
    }
  });
});
