/**
 * protocol/spec.md §Limits, file descriptors (issue 14 #6): SNAPSHOT `broker.connections` and the `ztb_connections`
 * metric count, per endpoint, the connected peers and the connections still in the ZeroMQ handshake, from the
 * broker's own sockets.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import type { ConnectionCounts } from "../../broker/src/protocol/messages";
import { brokerRegistry } from "../../broker/src/server/metrics";
import { Peers, adminCall, json, ready, type RunningBroker, startBroker } from "../server/harness";

/** A TCP connection that never sends the ZMTP greeting: it stays in the handshake until the broker closes it. */
function silentConnection(endpoint: string): Promise<Socket> {
  const { hostname, port } = new URL(endpoint.replace(/^tcp:/, "http:"));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.on("error", reject);
    socket.resume();
  });
}

describe("limits: connection counts in SNAPSHOT and metrics", () => {
  let broker: RunningBroker;
  const peers = new Peers();
  const sockets: Socket[] = [];

  beforeEach(async () => {
    broker = await startBroker();
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    peers.closeAll();
    await broker.stop();
  });

  async function connections(admin: ReturnType<Peers["dealer"]>): Promise<ConnectionCounts> {
    const reply = await adminCall(admin, "SNAPSHOT", {});
    return (json(reply[3]).broker as { connections: ConnectionCounts }).connections;
  }

  /** Polls SNAPSHOT until `check` holds: the counts follow libzmq's monitor events, which come asynchronously. */
  async function until(admin: ReturnType<Peers["dealer"]>, what: string, check: (c: ConnectionCounts) => boolean): Promise<ConnectionCounts> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const counts = await connections(admin);
      if (check(counts)) return counts;
      if (Date.now() > deadline) throw new Error(`${what}: not reached; counts ${JSON.stringify(counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("counts connected peers and unfinished handshakes per endpoint, and follows them as they go", async () => {
    const admin = peers.dealer(broker.endpoints.admin ?? "");
    const worker = peers.dealer(broker.endpoints.workers);
    await ready(worker, "w");
    sockets.push(await silentConnection(broker.endpoints.clients), await silentConnection(broker.endpoints.clients));

    const counts = await until(admin, "two silent clients and a worker", (c) => c.clients?.handshakes === 2 && c.workers?.peers === 1);
    assert.deepEqual(counts, {
      clients: { peers: 0, handshakes: 2 },
      workers: { peers: 1, handshakes: 0 },
      answers: { peers: 0, handshakes: 0 },
      admin: { peers: 1, handshakes: 0 },
    });

    const scraped = await brokerRegistry(() => broker.server.readCore()).metrics();
    assert.match(scraped, /ztb_connections\{endpoint="clients",state="handshakes"\} 2/);
    assert.match(scraped, /ztb_connections\{endpoint="workers",state="peers"\} 1/);

    for (const socket of sockets.splice(0)) socket.destroy();
    worker.close();
    await until(admin, "the silent clients and the worker gone", (c) => c.clients?.handshakes === 0 && c.workers?.peers === 0);
  });
});
