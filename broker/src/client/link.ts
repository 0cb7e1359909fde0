/**
 * One DEALER socket to one broker's clients endpoint, with its send queue and receive loop. A watched link also judges
 * whether that broker is gone (protocol/spec.md §Failing over) and says so once through `gone`:
 * - the connection dropped (libzmq's disconnect event; with ZMTP heartbeats this includes a broker that stopped
 *   answering PINGs: a hung process or a vanished host);
 * - the connection was refused or failed before it was up (connect:retry) or its security handshake failed;
 * - no handshake completed within `connectTimeout` (a host that swallows SYNs).
 * An unwatched link (a client of one broker) reports nothing and lets libzmq reconnect as it always has.
 */
import { Dealer } from "zeromq";
import type { Frame } from "../protocol/messages";
import { SendQueue } from "../peer/send-queue";
import { applyClientSecurity, type PeerKeys } from "../security/curve-client";

export type GoneReason = "disconnected" | "refused" | "handshake-failed" | "no-handshake";

export interface Watch {
  /** ms allowed from connect() to a completed ZMTP handshake. */
  connectTimeout: number;
  /** ZMTP heartbeats (ZMQ_HEARTBEAT_IVL / ZMQ_HEARTBEAT_TIMEOUT) in ms; 0 turns them off. */
  heartbeatInterval: number;
  heartbeatTimeout: number;
}

export interface LinkOptions {
  curve?: PeerKeys;
  routingId?: string;
  /** Absent: nothing is judged, nothing is reported. */
  watch?: Watch;
}

export interface LinkHandlers {
  frames(frames: Frame[]): void;
  gone(reason: GoneReason): void;
  receiveFailed(error: unknown): void;
}

export class Link {
  private readonly socket: Dealer;
  private readonly queue: SendQueue;
  private connectTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private judged = false;

  /** Connects at once; throws if the endpoint is invalid (libzmq's EINVAL). */
  constructor(
    readonly endpoint: string,
    options: LinkOptions,
    private readonly handlers: LinkHandlers,
  ) {
    const watch = options.watch;
    this.socket = new Dealer({
      linger: 0,
      ...(watch === undefined ? {} : { heartbeatInterval: watch.heartbeatInterval, heartbeatTimeout: watch.heartbeatTimeout }),
    });
    this.queue = new SendQueue(this.socket);
    try {
      if (options.curve) applyClientSecurity(this.socket, options.curve);
      if (options.routingId !== undefined) this.socket.routingId = options.routingId;
      // Subscribe before connecting: libzmq's monitor does not replay events from before it existed.
      if (watch !== undefined) this.watch(watch);
      this.socket.connect(endpoint);
    } catch (error) {
      this.close();
      throw error;
    }
    void this.receive();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Resolves once zeromq.js has taken the message (queued in libzmq's pipe, maybe before the connection is up). */
  send(frames: Frame[]): Promise<void> {
    return this.queue.send(frames);
  }

  post(frames: Frame[]): void {
    this.queue.post(frames, () => undefined);
  }

  /** Closes the socket; messages still in it are dropped (linger 0), and `gone` is not called any more. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.connectTimer);
    this.queue.close();
    this.socket.close();
  }

  private watch(watch: Watch): void {
    const events = this.socket.events;
    this.connectTimer = setTimeout(() => this.judge("no-handshake"), watch.connectTimeout);
    events.on("handshake", () => clearTimeout(this.connectTimer));
    events.on("disconnect", () => this.judge("disconnected"));
    events.on("connect:retry", () => this.judge("refused"));
    events.on("handshake:error:protocol", () => this.judge("handshake-failed"));
    events.on("handshake:error:auth", () => this.judge("handshake-failed"));
    events.on("handshake:error:other", () => this.judge("handshake-failed"));
  }

  private judge(reason: GoneReason): void {
    if (this.isClosed || this.judged) return;
    this.judged = true;
    clearTimeout(this.connectTimer);
    this.handlers.gone(reason);
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) this.handlers.frames(frames);
    } catch (error) {
      if (!this.isClosed) this.handlers.receiveFailed(error);
    }
  }
}
