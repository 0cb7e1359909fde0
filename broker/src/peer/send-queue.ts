/**
 * One explicit send queue per socket. zeromq.js allows a single pending `send()` per socket (a second concurrent call
 * fails with EBUSY), so every message a peer sends goes through its socket's queue, in order, one at a time.
 * Unlike the broker's queue (broker/src/server/send-queue.ts, which counts failures and allocates nothing per
 * message) each message here has its own promise, so a client can reject exactly the request whose send failed.
 */
import type { Writable } from "zeromq";
import { Deque } from "../core/queues";

interface Pending {
  frames: Uint8Array[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Thrown (as a rejection) for messages still queued when the queue is closed. */
export class SendQueueClosedError extends Error {
  override readonly name = "SendQueueClosedError";
}

export class SendQueue {
  private readonly items = new Deque<Pending>();
  private sending = false;
  private closed = false;

  constructor(private readonly socket: Writable) {}

  /** Messages waiting behind the one being sent. */
  get length(): number {
    return this.items.length;
  }

  /** Queues one multipart message; resolves once zeromq.js has taken it. */
  send(frames: Uint8Array[]): Promise<void> {
    if (this.closed) return Promise.reject(new SendQueueClosedError("socket closed"));
    return new Promise<void>((resolve, reject) => {
      this.items.pushBack({ frames, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  /** Fire and forget: a failure goes to `onError` (if any) instead of an unhandled rejection. */
  post(frames: Uint8Array[], onError?: (error: unknown) => void): void {
    this.send(frames).catch((error: unknown) => onError?.(error));
  }

  /** Rejects every queued message; the one being sent settles on its own when the socket closes. */
  close(): void {
    this.closed = true;
    const rest = [...this.items];
    this.items.clear();
    for (const item of rest) item.reject(new SendQueueClosedError("socket closed"));
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      for (let item = this.items.popFront(); item !== undefined; item = this.items.popFront()) {
        try {
          await this.socket.send(item.frames);
          item.resolve();
        } catch (error) {
          item.reject(error);
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
