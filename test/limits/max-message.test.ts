/**
 * protocol/spec.md §Limits, message size: every broker socket has ZMQ_MAXMSGSIZE = --max-message, so libzmq drops the
 * connection of a peer that sends a larger frame, before the broker sees any of it; the broker keeps serving.
 */
import assert from "node:assert/strict";
import { Dealer, Push } from "zeromq";
import { Peers, type RunningBroker, snapshotCounters, startBroker, texts } from "../server/harness";

const LIMIT = 64 * 1024;
const OVERSIZED = Buffer.alloc(LIMIT + 1, 0x61);

/** Connects `socket`, sends `frames` once connected, and resolves when the broker drops the connection. */
async function sendAndWaitForDrop(socket: Dealer | Push, endpoint: string, frames: Buffer[]): Promise<void> {
  const connected = new Promise<void>((resolve) => socket.events.on("connect", () => resolve()));
  const dropped = new Promise<void>((resolve) => socket.events.on("disconnect", () => resolve()));
  socket.connect(endpoint);
  await connected;
  await socket.send(frames);
  await dropped;
}

describe("limits: maximum message size on every endpoint", function () {
  this.timeout(10_000);
  let broker: RunningBroker;
  const peers = new Peers();
  const sockets: (Dealer | Push)[] = [];

  beforeEach(async () => {
    broker = await startBroker({ maxMessage: LIMIT });
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    peers.closeAll();
    await broker.stop();
  });

  const cases: { endpoint: "clients" | "workers" | "answers" | "admin"; frames: Buffer[] }[] = [
    { endpoint: "clients", frames: [Buffer.alloc(0), OVERSIZED] },
    { endpoint: "workers", frames: [Buffer.alloc(0), Buffer.from("ZTBW01"), Buffer.from("READY"), OVERSIZED] },
    { endpoint: "answers", frames: [Buffer.from("test-1"), OVERSIZED] },
    { endpoint: "admin", frames: [Buffer.alloc(0), Buffer.from("ZTBA01"), Buffer.from("SNAPSHOT"), OVERSIZED] },
  ];
  for (const { endpoint, frames } of cases) {
    it(`drops a peer that sends a frame over --max-message to ${endpoint}, and keeps serving`, async () => {
      const socket = endpoint === "answers" ? new Push({ linger: 0 }) : new Dealer({ linger: 0 });
      sockets.push(socket);
      const address = broker.endpoints[endpoint];
      assert.ok(address);
      await sendAndWaitForDrop(socket, address, frames);

      const legacy = peers.request(broker.endpoints.workers);
      const answers = peers.push(broker.endpoints.answers);
      const client = peers.request(broker.endpoints.clients);
      await legacy.send("requesting task");
      await client.send(Buffer.alloc(LIMIT, 0x62)); // exactly the limit passes
      const [task] = await legacy.receive();
      await answers.send([task ?? "", "fine"]);
      assert.deepEqual(texts(await client.receive()), ["fine"]);

      const admin = peers.dealer(broker.endpoints.admin ?? "");
      const counters = await snapshotCounters(admin);
      assert.equal(counters.requests, 1, "the oversized request never reached the core");
      assert.equal(counters.workers, 1, "the oversized READY never registered a worker");
      assert.deepEqual(counters.malformed, { client: 0, worker: 0, answers: 0, admin: 0 });
      assert.equal(counters.late, 0, "the oversized answer never reached the core");
    });
  }
});
