import assert from "node:assert/strict";
import { Router } from "zeromq";
import { decodeWorker, encodeToWorker } from "../../broker/src/codec";
import { Client, ClientTimeoutError } from "../../broker/src/client";
import type { BrokerServer } from "../../broker/src/server/broker-server";
import { Worker, type WorkerStatus } from "../../broker/src/worker";
import { deferred, nextStatus, startBroker, text } from "./harness";

describe("broker restart", () => {
  let server: BrokerServer | undefined;
  let worker: Worker | undefined;
  let client: Client | undefined;

  afterEach(async () => {
    client?.close();
    await worker?.close();
    await server?.close();
  });

  it("a Worker reconnects and re-registers; a Client gets a reply or a timeout, never a hang", async () => {
    const first = await startBroker({ tries: 2, timeout: 5000 });
    server = first.server;
    const endpoints = { ...first.endpoints }; // the resolved ports, to restart on the same ones
    const started = deferred();
    let hold = true;
    const statuses: WorkerStatus["type"][] = [];
    worker = new Worker({
      endpoint: endpoints.workers,
      name: "survivor",
      heartbeat: 100,
      reconnect: { initial: 20, max: 200 },
      handler: async (task) => {
        if (hold) {
          started.resolve();
          await new Promise((_, reject) => task.signal.addEventListener("abort", () => reject(task.signal.reason)));
        }
        return task.payload;
      },
    });
    worker.on("status", (status) => statuses.push(status.type));
    const ready = nextStatus(worker, "ready");
    worker.start();
    await ready;
    client = new Client({ endpoint: endpoints.clients });

    // A request running when the broker shuts down gets its one reply: failed/shutdown.
    const running = client.request("in flight", { deadline: 3000 });
    await started.promise;
    await server.shutdown(0);
    server = undefined;
    const shutdownReply = await running;
    assert.equal(shutdownReply.status, "failed");
    assert.equal(shutdownReply.reason, "shutdown");

    // While no broker listens, a request times out on the client's deadline.
    await assert.rejects(client.request("nobody home", { deadline: 100 }), ClientTimeoutError);

    // The broker comes back on the same endpoints: the worker registers again and serves.
    hold = false;
    const readyAgain = nextStatus(worker, "ready");
    server = (await startBroker({ tries: 2, timeout: 5000, endpoints: { ...endpoints, admin: null } })).server;
    await readyAgain;
    const reply = await client.request("after restart", { deadline: 3000 });
    assert.equal(reply.status, "succeeded");
    assert.equal(reply.worker, "survivor");
    assert.deepEqual(text(reply.payload), ["after restart"]);
    assert.ok(statuses.includes("disconnected") && statuses.includes("reconnecting"));
  });

  it("a worker whose broker falls silent reconnects with a new socket and READY (liveness 3 x the broker's interval)", async () => {
    // A fake broker that accepts READY, announces a 100 ms heartbeat once, then says nothing while staying connected.
    const router = new Router({ linger: 0 });
    await router.bind("tcp://127.0.0.1:*");
    try {
      worker = new Worker({ endpoint: router.lastEndpoint ?? "", heartbeat: 1000, reconnect: { initial: 10 }, handler: async (t) => t.payload });
      worker.start();
      const readies: { id: string; at: number }[] = [];
      while (readies.length < 2) {
        const [id, ...frames] = await router.receive();
        assert.ok(id !== undefined);
        const msg = decodeWorker(frames);
        if (msg.type !== "ready") continue;
        readies.push({ id: id.toString("hex"), at: Date.now() });
        if (readies.length === 1) await router.send([id, ...encodeToWorker({ type: "heartbeat", interval: 100 })]);
      }
      const [firstReady, secondReady] = readies as [{ id: string; at: number }, { id: string; at: number }];
      assert.notEqual(secondReady.id, firstReady.id, "a new socket, so a new routing id");
      assert.ok(secondReady.at - firstReady.at >= 300, `reconnected after ${secondReady.at - firstReady.at} ms, before 3 x 100 ms`);
    } finally {
      router.close();
    }
  });
});
