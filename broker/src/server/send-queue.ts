/**
 * One explicit FIFO in front of each socket's `send`. zeromq.js allows a single pending send per socket (a second one
 * fails with EBUSY), so every outgoing message goes through here and is awaited in order; nothing is fire-and-forget.
 * Sends complete synchronously while the socket is writable, so the pump costs one microtask per message.
 *
 * Undeliverable messages are counted and logged, never thrown: EHOSTUNREACH (mandatory ROUTER, the peer is gone — an
 * ordinary race with a disconnect) and EAGAIN (the peer is at its high-water mark, see sockets.ts).
 *
 * The peer libraries' SendQueue (broker/src/peer/send-queue.ts) shares the queue (core Deque) but not this class, on
 * purpose: a caller there awaits each message and queued ones reject on close, while the broker must not allocate a
 * promise per message (memory per queued task), counts instead of rejecting, and offers `drained()` for shutdown.
 */
import { Deque } from "../core/queues";
import type { Logger } from "./logger";

export type OutgoingMessage = Uint8Array[];

export interface Sender {
  send(message: OutgoingMessage): Promise<void>;
  readonly closed: boolean;
}

export interface SendCounters {
  sent: number;
  /** EHOSTUNREACH: the peer disconnected before its message could be routed. */
  unroutable: number;
  /** EAGAIN: the peer is at its high-water mark (not reading). */
  dropped: number;
  /** Any other send error. */
  failed: number;
}

export class SendQueue {
  readonly counters: SendCounters = { sent: 0, unroutable: 0, dropped: 0, failed: 0 };
  private readonly queue = new Deque<OutgoingMessage>();
  private pumping = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly socket: Sender,
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  get pending(): number {
    return this.queue.length + (this.pumping ? 1 : 0);
  }

  push(message: OutgoingMessage): void {
    this.queue.pushBack(message);
    if (!this.pumping) void this.pump();
  }

  /** Resolves once every queued message has been handed to libzmq (or dropped). */
  drained(): Promise<void> {
    if (!this.pumping && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    for (let message = this.queue.popFront(); message !== undefined; message = this.queue.popFront()) {
      if (this.socket.closed) {
        this.queue.clear();
        break;
      }
      try {
        await this.socket.send(message);
        this.counters.sent++;
      } catch (err) {
        this.onError(err);
      }
    }
    this.pumping = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private onError(err: unknown): void {
    const code = errorCode(err);
    if (code === "EHOSTUNREACH") {
      this.counters.unroutable++;
      if (this.logger.enabled("debug")) this.logger.debug("send-unroutable", { socket: this.name });
    } else if (code === "EAGAIN") {
      this.counters.dropped++;
      this.logger.warn("send-dropped", { socket: this.name, reason: "peer at high-water mark" });
    } else {
      this.counters.failed++;
      this.logger.error("send-failed", { socket: this.name, code: code ?? null, message: errorMessage(err) });
    }
  }
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
