/**
 * One explicit send queue per socket. zeromq.js allows a single pending `send()` per socket (a second concurrent call
 * fails with EBUSY), so every message a peer sends goes through its socket's queue, in order, one at a time.
 */
import type { Writable } from "zeromq";

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
  private items: (Pending | undefined)[] = [];
  private head = 0;
  private sending = false;
  private closed = false;

  constructor(private readonly socket: Writable) {}

  /** Messages waiting behind the one being sent. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Queues one multipart message; resolves once zeromq.js has taken it. */
  send(frames: Uint8Array[]): Promise<void> {
    if (this.closed) return Promise.reject(new SendQueueClosedError("socket closed"));
    return new Promise<void>((resolve, reject) => {
      this.items.push({ frames, resolve, reject });
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
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    for (const item of rest) item?.reject(new SendQueueClosedError("socket closed"));
  }

  private next(): Pending | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      for (let item = this.next(); item !== undefined; item = this.next()) {
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
