import assert from "node:assert/strict";
import { Router } from "zeromq";
import { decodeWorker, encodeToWorker } from "../../broker/src/codec";
import type { DisconnectReason } from "../../broker/src/protocol/messages";
import { Worker } from "../../broker/src/worker";

/** A scripted broker: a bare ROUTER that decodes what the worker sends and answers what the test says. */
async function fakeBroker(): Promise<{ router: Router; endpoint: string; nextReady(): Promise<Buffer> }> {
  const router = new Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:*");
  return {
    router,
    endpoint: router.lastEndpoint ?? "",
    async nextReady() {
      for (;;) {
        const [id, ...frames] = await router.receive();
        assert.ok(id !== undefined);
        if (decodeWorker(frames).type === "ready") return id;
      }
    },
  };
}

describe("Worker heartbeats and the broker's DISCONNECT", () => {
  let router: Router | undefined;
  let worker: Worker | undefined;

  afterEach(async () => {
    await worker?.close();
    router?.close();
  });

  for (const reason of ["unknown-worker", "protocol-error", "shutdown"] as const) {
    it(`DISCONNECT {${reason}}: reconnects with a new socket and sends READY again`, async () => {
      const broker = await fakeBroker();
      router = broker.router;
      worker = new Worker({ endpoint: broker.endpoint, heartbeat: 1000, reconnect: { initial: 10 }, handler: async (t) => t.payload });
      worker.start();
      const first = await broker.nextReady();
      await router.send([first, ...encodeToWorker({ type: "disconnect", detail: { reason } })]);
      const second = await broker.nextReady();
      assert.notDeepEqual(second, first);
    });
  }

  for (const reason of ["draining", "bye"] as const satisfies readonly DisconnectReason[]) {
    it(`DISCONNECT {${reason}}: the worker stops`, async () => {
      const broker = await fakeBroker();
      router = broker.router;
      worker = new Worker({ endpoint: broker.endpoint, heartbeat: 1000, handler: async (t) => t.payload });
      worker.start();
      const id = await broker.nextReady();
      await router.send([id, ...encodeToWorker({ type: "disconnect", detail: { reason } })]);
      assert.equal(await worker.stopped, reason);
    });
  }

  it("an idle worker sends HEARTBEAT with its interval, once per interval", async () => {
    const broker = await fakeBroker();
    router = broker.router;
    worker = new Worker({ endpoint: broker.endpoint, heartbeat: 100, handler: async (t) => t.payload });
    worker.start();
    const id = await broker.nextReady();
    // Answer like a broker would, so the worker does not give up on us while we watch.
    await router.send([id, ...encodeToWorker({ type: "heartbeat", interval: 60_000 })]);
    const times: number[] = [];
    while (times.length < 3) {
      const [, ...frames] = await router.receive();
      const msg = decodeWorker(frames);
      assert.deepEqual(msg, { type: "heartbeat", interval: 100 });
      times.push(Date.now());
    }
    const [a, b, c] = times as [number, number, number];
    // Timers may fire a millisecond early relative to Date.now(); never a whole interval early.
    assert.ok(b - a >= 90 && c - b >= 90, `gaps ${b - a} and ${c - b} ms`);
  });

  it("close() says DISCONNECT {bye} to the broker", async () => {
    const broker = await fakeBroker();
    router = broker.router;
    const w = new Worker({ endpoint: broker.endpoint, heartbeat: 1000, handler: async (t) => t.payload });
    w.start();
    await broker.nextReady();
    const closing = w.close();
    for (;;) {
      const [, ...frames] = await router.receive();
      const msg = decodeWorker(frames);
      if (msg.type === "heartbeat") continue;
      assert.deepEqual(msg, { type: "disconnect", detail: { reason: "bye" } });
      break;
    }
    await closing;
    assert.equal(await w.stopped, "closed");
  });
});
