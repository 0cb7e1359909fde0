/**
 * Connections per endpoint, from each socket's monitor events (protocol/spec.md §Limits, file descriptors): what an
 * operator looks at when descriptors run short — how many peers are connected, and how many connections are still in
 * the ZeroMQ handshake (idle ones are closed after HANDSHAKE_TIMEOUT_MS).
 *
 * libzmq reports every accepted connection once ("accept"), ends its handshake with exactly one of "handshake" or
 * "handshake:error:*", and reports its end once ("disconnect"), so: open = accepted - disconnected, in handshake =
 * accepted - handshake ends, peers = open - in handshake.
 */
import type { Socket } from "zeromq";
import type { Endpoint } from "../core/api";
import type { ConnectionCounts } from "../protocol/messages";

interface Tally {
  accepted: number;
  handshakes: number;
  disconnected: number;
}

export class ConnectionCounter {
  private readonly tallies = new Map<Endpoint, Tally>();

  watch(socket: Socket, endpoint: Endpoint): void {
    const tally: Tally = { accepted: 0, handshakes: 0, disconnected: 0 };
    this.tallies.set(endpoint, tally);
    const ended = (): void => void tally.handshakes++;
    socket.events.on("accept", () => void tally.accepted++);
    socket.events.on("handshake", ended);
    socket.events.on("handshake:error:auth", ended);
    socket.events.on("handshake:error:protocol", ended);
    socket.events.on("handshake:error:other", ended);
    socket.events.on("disconnect", () => void tally.disconnected++);
  }

  /**
   * Every connection of `endpoint` was closed with its listener (zmq_unbind), which reports no "disconnect" for them.
   * Call between the unbind and the next bind.
   */
  reset(endpoint: Endpoint): void {
    const tally = this.tallies.get(endpoint);
    if (tally === undefined) return;
    tally.accepted = 0;
    tally.handshakes = 0;
    tally.disconnected = 0;
  }

  /** Per endpoint: connected peers, and connections still in their handshake. */
  counts(): ConnectionCounts {
    const counts: ConnectionCounts = {};
    for (const [endpoint, t] of this.tallies) {
      const open = Math.max(0, t.accepted - t.disconnected);
      const handshakes = Math.min(open, Math.max(0, t.accepted - t.handshakes));
      counts[endpoint] = { peers: open - handshakes, handshakes };
    }
    return counts;
  }
}
