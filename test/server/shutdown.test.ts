/**
 * protocol/spec.md §Scheduling rule 7 at shutdown: every pending client gets its one reply (plain: empty frame,
 * enveloped: REPLY failed/shutdown), workers get DISCONNECT{shutdown}, then the sockets close.
 */
import assert from "node:assert/strict";
import { json, Peers, ready, receiveCommand, type RunningBroker, startBroker, texts } from "./harness";

describe("server: graceful shutdown", () => {
  let broker: RunningBroker;
  const peers = new Peers();

  beforeEach(async () => {
    broker = await startBroker();
  });
  afterEach(async () => {
    peers.closeAll();
    await broker.stop();
  });

  it("answers queued and running requests with failed/shutdown and disconnects workers", async () => {
    const worker = peers.dealer(broker.endpoints.workers);
    await ready(worker, "busy");
    const running = peers.dealer(broker.endpoints.clients);
    await running.send(["", "ZTBC01", "REQUEST", JSON.stringify({ id: "running" }), "slow"]);
    await receiveCommand(worker, "TASK");
    const queued = peers.dealer(broker.endpoints.clients);
    await queued.send(["", "ZTBC01", "REQUEST", JSON.stringify({ id: "queued", service: "nobody" }), "never"]);
    const plain = peers.request(broker.endpoints.clients);
    await plain.send("plain");
    // Let the broker accept both before it stops taking requests: SNAPSHOT is answered after them on one thread,
    // but they travel on other connections, so poll the request count.
    const admin = peers.dealer(broker.endpoints.admin ?? "");
    for (let i = 0; i < 100; i++) {
      await admin.send(["", "ZTBA01", "SNAPSHOT", "{}"]);
      const counters = json((await admin.receive())[3]).counters as Record<string, number>;
      if (counters.requests === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const stopping = broker.server.shutdown(50);
    for (const [client, id] of [[running, "running"], [queued, "queued"]] as const) {
      const reply = await client.receive();
      const detail = json(reply[3]);
      assert.equal(detail.status, "failed", id);
      assert.equal(detail.reason, "shutdown", id);
      assert.equal(detail.id, id);
    }
    assert.deepEqual(texts(await plain.receive()), [""]);
    const bye = await receiveCommand(worker, "DISCONNECT");
    if (bye[3] !== undefined) assert.equal(json(bye[3]).reason, "shutdown");
    await stopping;
    await broker.server.stopped; // the core reported stopped: sockets closed because nothing was pending
  });
});
