/** protocol/spec.md §Admin over the socket: SNAPSHOT describes the broker, SUBSCRIBE streams EVENTs. */
import assert from "node:assert/strict";
import { adminCall, json, Peers, type RunningBroker, startBroker, texts } from "./harness";

describe("server: admin endpoint", () => {
  let broker: RunningBroker;
  const peers = new Peers();

  beforeEach(async () => {
    broker = await startBroker({ tries: 2, timeout: 1500, maxQueue: 10 });
  });
  afterEach(async () => {
    peers.closeAll();
    await broker.stop();
  });

  it("SNAPSHOT reports the bound endpoints, the limits and the workers", async () => {
    const worker = peers.request(broker.endpoints.workers);
    await worker.send("requesting task");
    const admin = peers.dealer(broker.endpoints.admin ?? "");
    let snapshot: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      const reply = await adminCall(admin, "SNAPSHOT", {});
      assert.deepEqual(texts(reply.slice(0, 3)), ["", "ZTBA01", "SNAPSHOT"]);
      snapshot = json(reply[3]);
      if ((snapshot.workers as unknown[]).length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const info = snapshot.broker as Record<string, unknown>;
    assert.deepEqual(info.endpoints, broker.endpoints);
    assert.match(broker.endpoints.clients, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(info.tries, 2);
    assert.equal(info.timeout, 1500);
    assert.equal(info.maxQueue, 10);
    assert.equal(info.state, "running");
    const workers = snapshot.workers as Record<string, unknown>[];
    assert.equal(workers.length, 1);
    assert.equal(workers[0]?.kind, "legacy");
  });

  it("a REQ monitor gets answers too", async () => {
    const admin = peers.request(broker.endpoints.admin ?? "");
    await admin.send(["ZTBA01", "SNAPSHOT", "{}"]);
    const reply = await admin.receive();
    assert.deepEqual(texts(reply.slice(0, 2)), ["ZTBA01", "SNAPSHOT"]);
  });

  it("SUBSCRIBE is acknowledged and followed by EVENTs showing a task's life", async () => {
    const admin = peers.dealer(broker.endpoints.admin ?? "");
    const ack = await adminCall(admin, "SUBSCRIBE", { lease: 5000 });
    assert.deepEqual(texts(ack.slice(0, 3)), ["", "ZTBA01", "ACK"]);
    assert.equal(typeof json(ack[3]).seq, "number");

    const worker = peers.request(broker.endpoints.workers);
    const answers = peers.push(broker.endpoints.answers);
    const client = peers.request(broker.endpoints.clients);
    await worker.send("requesting task");
    await client.send("watched");
    const [task] = await worker.receive();
    await answers.send([task ?? "", "seen"]);
    assert.deepEqual(texts(await client.receive()), ["seen"]);

    const states: string[] = [];
    let lastSeq = -1;
    while (!states.includes("succeeded")) {
      const event = await admin.receive(); // receiveTimeout bounds the wait
      assert.equal(event[2]?.toString(), "EVENT");
      const body = json(event[3]);
      assert.ok((body.seq as number) > lastSeq, "seq increases");
      lastSeq = body.seq as number;
      for (const view of body.tasks as Record<string, unknown>[]) {
        if (view.id === task?.toString()) states.push(String(view.state));
      }
    }
    assert.equal(states.at(-1), "succeeded");
  });
});
