import assert from "node:assert/strict";
import { Client } from "../../broker/src/client";
import type { BrokerServer } from "../../broker/src/server/broker-server";
import { TaskCancelledError, Worker } from "../../broker/src/worker";
import { deferred, nextStatus, startBroker, text } from "./harness";

describe("Worker and Client over a real broker", () => {
  let server: BrokerServer;
  let clients: string;
  let workers: string;
  const closers: (() => unknown)[] = [];

  beforeEach(async () => {
    const broker = await startBroker({ tries: 3, timeout: 5000 });
    server = broker.server;
    clients = broker.endpoints.clients;
    workers = broker.endpoints.workers;
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await server.close();
  });

  function worker(options: Omit<ConstructorParameters<typeof Worker>[0], "endpoint">): Worker {
    const w = new Worker({ endpoint: workers, heartbeat: 100, ...options });
    closers.push(() => w.close());
    return w;
  }

  function client(deadline = 5000): Client {
    const c = new Client({ endpoint: clients, deadline });
    closers.push(() => c.close());
    return c;
  }

  it("runs up to `capacity` tasks at once and answers every request with its own echo", async () => {
    const capacity = 3;
    let running = 0;
    let most = 0;
    const full = deferred();
    const w = worker({
      name: "echo",
      capacity,
      handler: async (task) => {
        running++;
        most = Math.max(most, running);
        if (running === capacity) full.resolve();
        await full.promise; // the first tasks wait until `capacity` of them run together
        running--;
        return task.payload;
      },
    });
    const ready = nextStatus(w, "ready");
    w.start();
    await ready;

    const c = client();
    const replies = await Promise.all(Array.from({ length: 9 }, (_, i) => c.request([`part ${i}`, "tail"])));
    assert.equal(most, capacity);
    replies.forEach((reply, i) => {
      assert.equal(reply.status, "succeeded");
      assert.deepEqual(text(reply.payload), [`part ${i}`, "tail"]);
      assert.equal(reply.worker, "echo");
      assert.equal(reply.attempts, 1);
    });
    assert.deepEqual(c.stats, { duplicates: 0, late: 0, unmatched: 0, resent: 0, failovers: 0, resends: 0 });
  });

  it("aborting a request sends CANCEL: the handler's signal aborts and the reply is failed/cancelled", async () => {
    const started = deferred();
    const aborted = deferred<unknown>();
    const w = worker({
      name: "slow",
      handler: (task) =>
        new Promise((_, reject) => {
          started.resolve();
          task.signal.addEventListener("abort", () => {
            aborted.resolve(task.signal.reason);
            reject(task.signal.reason);
          });
        }),
    });
    w.start();
    const c = client();
    const controller = new AbortController();
    const reply = c.request("wait", { signal: controller.signal });
    await started.promise;
    controller.abort();
    const answer = await reply;
    assert.equal(answer.status, "failed");
    assert.equal(answer.reason, "cancelled");
    const reason = await aborted.promise;
    assert.ok(reason instanceof TaskCancelledError);
    assert.equal(reason.reason, "cancelled");
  });

  it("extend() moves an attempt's deadline so a slow task is not retried", async () => {
    await server.close();
    const broker = await startBroker({ tries: 2, timeout: 60 });
    server = broker.server;
    clients = broker.endpoints.clients;
    workers = broker.endpoints.workers;
    const w = worker({
      name: "extender",
      handler: async (task) => {
        assert.equal(w.extend(task.id, 2000), true);
        await new Promise((resolve) => setTimeout(resolve, 200)); // > 60 ms: retried without the EXTEND
        return "done";
      },
    });
    w.start();
    const reply = await client().request("slow");
    assert.equal(reply.status, "succeeded");
    assert.equal(reply.attempts, 1);
    assert.deepEqual(text(reply.payload), ["done"]);
    assert.equal(w.extend("no-such-task", 10), false);
  });
});
