/**
 * protocol/spec.md §Limits, file descriptors, on a real `ztb broker`: a connection that never completes the ZeroMQ
 * handshake is closed after ZMQ_HANDSHAKE_IVL (3 s, not libzmq's 30 s); at the descriptor limit the broker says so
 * (rate-limited `accept-failed` lines) instead of failing silently, and serves again once descriptors are free; the
 * soft RLIMIT_NOFILE is the hard one (Node raises it at start).
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { Client } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, openFileLimits, spawnBroker } from "../chaos/broker-process";

/** A TCP connection that sends nothing at all (not even the ZMTP greeting), open once connected. */
function silentConnection(endpoint: string): Promise<Socket> {
  const { hostname, port } = new URL(endpoint.replace(/^tcp:/, "http:"));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.on("error", reject);
    socket.resume(); // read (and discard) the broker's greeting, so its closing the connection is seen at once
  });
}

const closed = (socket: Socket): Promise<void> =>
  new Promise((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));

describe("limits: file descriptors", function () {
  let broker: BrokerProcess | undefined;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await broker?.stop();
    broker = undefined;
  });

  it("closes connections that never send the ZMTP greeting, on every endpoint", async function () {
    // libzmq's default handshake timeout is 30 s: this limit only tells it apart from the broker's 3 s.
    this.timeout(20_000);
    broker = await spawnBroker(["--log-level", "error"]);
    const started = Date.now();
    const silent = await Promise.all(Object.values(broker.endpoints).map(silentConnection));
    sockets.push(...silent);
    await Promise.all(silent.map(closed));
    console.log(`      ${silent.length} silent connections closed by the broker after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("logs accept failures at the descriptor limit, rate-limited, and serves again once descriptors are free", async function () {
    this.timeout(60_000);
    broker = await spawnBroker(["--log-level", "warn"], undefined, { openFiles: { soft: 64, hard: 64 } });
    const { endpoints } = broker;
    // Fill the broker's descriptor table with connections that say nothing, until it reports that it cannot accept.
    while ((broker.events.get("accept-failed") ?? 0) === 0) {
      sockets.push(await silentConnection(endpoints.clients));
      if (sockets.length % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const line = broker.recent.find((l) => l.includes('"accept-failed"')) ?? "";
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.equal(record.endpoint, "clients");
    assert.equal(record.code, "EMFILE");
    const failedAt = broker.events.get("accept-failed") ?? 0;
    console.log(`      accept failed after ${sockets.length} silent connections; ${failedAt} accept-failed line(s) so far`);

    for (const socket of sockets.splice(0)) socket.destroy();
    // The broker serves a worker and a client again.
    const worker = new Worker({ endpoint: endpoints.workers, handler: (task) => Promise.resolve(task.payload) });
    const client = new Client({ endpoint: endpoints.clients, deadline: 40_000 });
    try {
      worker.start();
      const reply = await client.request(["after the flood"]);
      assert.equal(reply.status, "succeeded");
    } finally {
      client.close();
      await worker.close();
    }
    // libzmq retries a failed accept at once (thousands of failures a second); the lines stay few.
    const lines = broker.events.get("accept-failed") ?? 0;
    assert.ok(lines < 100, `${lines} accept-failed lines`);
  });

  it("runs with the soft open-file limit raised to the hard one", async function () {
    this.timeout(20_000);
    broker = await spawnBroker(["--log-level", "error"], undefined, { openFiles: { soft: 256, hard: 4096 } });
    assert.deepEqual(openFileLimits(broker.pid), { soft: 4096, hard: 4096 });
    const listening = broker.recent.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>).find((r) => r.event === "listening");
    assert.equal(listening?.openFiles, 4096, "the limit is logged at start");
  });
});
