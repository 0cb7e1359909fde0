import assert from "node:assert/strict";
import { Client } from "../../broker/src/client";
import type { BrokerServer } from "../../broker/src/server/broker-server";
import { NonRetryableError, Worker } from "../../broker/src/worker";
import { startBroker } from "./harness";

describe("a handler that throws", () => {
  let server: BrokerServer;
  let worker: Worker;
  let client: Client;
  let calls: number;

  async function setUp(handlerError: () => Error): Promise<void> {
    const broker = await startBroker({ tries: 3, timeout: 5000 });
    server = broker.server;
    calls = 0;
    worker = new Worker({
      endpoint: broker.endpoints.workers,
      name: "thrower",
      heartbeat: 100,
      handler: async () => {
        calls++;
        throw handlerError();
      },
    });
    worker.start();
    client = new Client({ endpoint: broker.endpoints.clients, deadline: 5000 });
  }

  afterEach(async () => {
    client.close();
    await worker.close();
    await server.close();
  });

  it("becomes FAIL retryable: the client gets failed/worker-failed with the message after every attempt", async () => {
    await setUp(() => new Error("disk on fire"));
    const reply = await client.request("job");
    assert.equal(reply.status, "failed");
    assert.equal(reply.reason, "worker-failed");
    assert.equal(reply.message, "disk on fire");
    assert.equal(reply.attempts, 3);
    assert.equal(reply.worker, "thrower");
    assert.equal(calls, 3);
  });

  it("marked non-retryable, fails the request after the first attempt", async () => {
    await setUp(() => new NonRetryableError("bad input"));
    const reply = await client.request("job");
    assert.equal(reply.status, "failed");
    assert.equal(reply.reason, "worker-failed");
    assert.equal(reply.message, "bad input");
    assert.equal(reply.attempts, 1);
    assert.equal(calls, 1);
  });
});
