/**
 * Creation and options of the broker's four sockets (protocol/spec.md §Peers and endpoints).
 *
 * High-water marks (messages queued per peer, in each direction):
 * - ROUTER send HWM 64 with `sendTimeout: 0`. A mandatory ROUTER blocks the whole socket when ONE peer is at its HWM,
 *   so a client that stops reading would stall every other client. With a send timeout of 0 such a send fails at once
 *   with EAGAIN, and the send queue keeps that peer's messages in its backlog, bounded in bytes (send-queue.ts). libzmq
 *   counts messages, not bytes, so its share is kept small: 64 messages per peer. That does not slow a peer that
 *   reads: its messages wait in the backlog only until libzmq notices that it read (it learns that every 32 messages),
 *   and throughput measured the same as with 100 000 (16 B and 64 KiB requests, 400 in flight).
 * - receive HWM 1000 per peer on every socket: the receive loops drain sockets as fast as the core runs; beyond that
 *   libzmq stops reading that peer's connection (back-pressure on a peer that sends faster than the broker reads).
 *   What libzmq holds is memory the broker cannot refuse or count (§Limits, load shedding): 10 000 small requests from
 *   one flooding client took a broker with --max-memory 136M to 148 MiB; with 1000 it peaked at 124 MiB
 *   (test/limits/max-memory). No honest peer is slowed: a client has at most its window in flight (the bench's 256),
 *   a worker at most its capacity of results.
 * Every socket has ZMQ_MAXMSGSIZE = `--max-message`: libzmq drops the connection of a peer sending a bigger frame
 * (the codec bounds the whole message), and ZMQ_HANDSHAKE_IVL = HANDSHAKE_TIMEOUT_MS (below).
 */
import { Pull, Router, type Socket } from "zeromq";
import type { RateLimitedLog } from "./rate-limited-log";

/** libzmq draft option ZMQ_DISCONNECT_MSG (zmq_draft.h): a message the ROUTER receives from a peer whose pipe ended. */
const ZMQ_DISCONNECT_MSG = 111;
/** libzmq draft option ZMQ_ROUTER_NOTIFY and its ZMQ_NOTIFY_CONNECT bit: `[routing-id, ""]` when a peer connects. */
const ZMQ_ROUTER_NOTIFY = 97;
const ZMQ_NOTIFY_CONNECT = 1;

/**
 * ZMQ_HANDSHAKE_IVL: a connection that has not finished the ZMTP handshake (greeting, mechanism, CURVE's
 * HELLO/WELCOME/INITIATE/READY and the ZAP round trip) by then is closed. That takes a few round trips — well under
 * 1 s even across continents — so 3 s is generous for honest peers, while a peer that connects and says nothing holds
 * a file descriptor for 3 s instead of libzmq's default 30 s: ten times fewer idle descriptors for the same attack.
 */
export const HANDSHAKE_TIMEOUT_MS = 3000;

export const ROUTER_SEND_HWM = 64;

export const RECEIVE_HWM = 1000;

export interface SocketOptions {
  /** ZMQ_MAXMSGSIZE in bytes. */
  maxMessageSize: number;
}

/** A ROUTER that can be told which frame to deliver, from a peer's routing id, when that peer disconnects. */
export class NotifyingRouter extends Router {
  /** Sets ZMQ_DISCONNECT_MSG: libzmq then delivers `[routing-id, frame]` when a peer's connection drops. */
  setDisconnectMessage(frame: Uint8Array): void {
    this.setStringOption(ZMQ_DISCONNECT_MSG, Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  }

  /** Sets ZMQ_ROUTER_NOTIFY to connect: libzmq then delivers `[routing-id, ""]` when a peer connects. */
  notifyConnect(): void {
    this.setInt32Option(ZMQ_ROUTER_NOTIFY, ZMQ_NOTIFY_CONNECT);
  }
}

export interface RouterOptions extends SocketOptions {
  /** The frame a vanished peer is reported with (the codec's PEER_GONE_FRAME). */
  peerGoneFrame: Uint8Array;
  /**
   * ZMTP heartbeats (ZMQ_HEARTBEAT_IVL, timeout 3x): catch a peer whose host vanished without closing its TCP
   * connection (legacy workers have no application heartbeat). undefined = off.
   */
  zmtpHeartbeat?: number;
  /**
   * Report connections too (clients endpoint): a client of a recovered task gets its parked reply as soon as it
   * reconnects (protocol/spec.md §Durability).
   */
  notifyConnect?: boolean;
}

export function createRouter(options: RouterOptions): NotifyingRouter {
  const socket = new NotifyingRouter({
    mandatory: true,
    sendHighWaterMark: ROUTER_SEND_HWM,
    sendTimeout: 0,
    receiveHighWaterMark: RECEIVE_HWM,
    maxMessageSize: options.maxMessageSize,
    handshakeInterval: HANDSHAKE_TIMEOUT_MS,
  });
  if (options.zmtpHeartbeat !== undefined) {
    socket.heartbeatInterval = options.zmtpHeartbeat;
    socket.heartbeatTimeout = options.zmtpHeartbeat * 3;
  }
  socket.setDisconnectMessage(options.peerGoneFrame);
  if (options.notifyConnect === true) socket.notifyConnect();
  return socket;
}

export function createPull(options: SocketOptions): Pull {
  return new Pull({
    receiveHighWaterMark: RECEIVE_HWM,
    maxMessageSize: options.maxMessageSize,
    handshakeInterval: HANDSHAKE_TIMEOUT_MS,
  });
}

/**
 * Logs (rate-limited, one line per second per endpoint) each connection the socket could not accept — typically
 * EMFILE at the file-descriptor limit, where libzmq retries at once and nothing else would say why new workers and
 * clients cannot connect.
 */
export function watchAcceptFailures(socket: Socket, endpoint: string, log: RateLimitedLog): void {
  socket.events.on("accept:error", (event) => {
    const { address, error } = event;
    log.warn(`accept:${endpoint}`, "accept-failed", { endpoint, address, code: error.code ?? null, message: error.message });
  });
}
