import assert from "node:assert/strict";
import { PlainClient } from "../../broker/src/client";
import type { BrokerServer } from "../../broker/src/server/broker-server";
import { LegacyWorker } from "../../broker/src/worker";
import { nextStatus, startBroker, text } from "./harness";

describe("LegacyWorker and PlainClient (the prototype's protocol)", () => {
  let server: BrokerServer;
  let worker: LegacyWorker;
  let client: PlainClient;
  let seen: string[];

  /** `drop(n)` decides whether the n-th task (from 1) goes unanswered, as the prototype's test worker did. */
  async function setUp(tries: number, drop: (n: number) => boolean): Promise<void> {
    const broker = await startBroker({ tries, timeout: 50 });
    server = broker.server;
    seen = [];
    worker = new LegacyWorker({
      workers: broker.endpoints.workers,
      answers: broker.endpoints.answers,
      handler: async (task) => {
        seen.push(task.id);
        return drop(seen.length) ? null : task.payload;
      },
    });
    const connected = nextStatus(worker, "connected");
    worker.start();
    await connected;
    client = new PlainClient({ endpoint: broker.endpoints.clients, deadline: 5000 });
  }

  afterEach(async () => {
    client.close();
    await worker.close();
    await server.close();
  });

  it("answers many requests in flight on one client, each with its own echo", async () => {
    await setUp(3, () => false);
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => client.request([`request ${i}`, "x"])));
    replies.forEach((reply, i) => {
      assert.equal(reply.ok, true);
      assert.deepEqual(text(reply.payload), [`request ${i}`, "x"]);
    });
    assert.equal(seen.length, 20);
    assert.deepEqual(client.stats, { duplicates: 0, late: 0, unmatched: 0, resent: 0, failovers: 0, resends: 0 });
  });

  it("a dropped task is retried after the attempt timeout and answered", async () => {
    await setUp(3, (n) => n === 1);
    const reply = await client.request("once dropped");
    assert.equal(reply.ok, true);
    assert.deepEqual(text(reply.payload), ["once dropped"]);
    assert.equal(seen.length, 2);
    assert.equal(seen[0], seen[1]); // the same task id, attempted twice
  });

  it("after the last attempt the client gets the one empty frame that means failure", async () => {
    await setUp(2, () => true);
    const reply = await client.request("always dropped");
    assert.equal(reply.ok, false);
    assert.deepEqual(reply.payload.map((frame) => frame.length), [0]);
    assert.equal(seen.length, 2);
  });
});
