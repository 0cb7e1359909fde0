/**
 * The plumbing both clients share (protocol/spec.md §Client <-> broker): one DEALER and its send queue, the requests
 * in flight by correlation id with their client-side deadline and abort handling, what became of finished ones, the
 * receive loop and close(). The clients keep only what differs: how a request is encoded and how a reply is matched.
 */
import { Dealer } from "zeromq";
import type { Frame } from "../protocol/messages";
import type { PeerLogger } from "../peer/logger";
import { SendQueue } from "../peer/send-queue";
import { applyClientSecurity, type PeerKeys } from "../security/curve-client";
import { ClientAbortedError, ClientClosedError, ClientSendError, ClientTimeoutError } from "./errors";
import { FinishedIds, IdGenerator, type ClientStats } from "./pending";

/** How one request ends when no reply comes. */
export interface Tracking {
  /** Client-side deadline in ms. */
  deadline: number;
  signal?: AbortSignal;
  /** Tells the broker to stop (enveloped CANCEL): called when the deadline passes and when the signal aborts. */
  cancel?: () => void;
  /** How long an abort waits for the broker's reply before rejecting; undefined: the abort rejects at once. */
  abortWait?: number;
  /** false: the deadline does not call `cancel` (a keyed request that a resend should find); default true. */
  cancelAtDeadline?: boolean;
}

interface Pending<R> {
  readonly resolve: (reply: R) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

export class ClientConnection<R> {
  readonly stats: ClientStats = { duplicates: 0, late: 0, unmatched: 0, resent: 0 };
  readonly ids = new IdGenerator();

  private readonly socket = new Dealer({ linger: 0 });
  private readonly queue = new SendQueue(this.socket);
  private readonly pending = new Map<string, Pending<R>>();
  private readonly finished = new FinishedIds();
  private isClosed = false;

  /**
   * Connects at once; throws if the endpoint is invalid (libzmq's EINVAL). `onFrames` gets every message received;
   * `logPrefix` names the log events (`<prefix>-receive-failed`, `<prefix>-malformed-reply`).
   */
  constructor(
    endpoint: string,
    private readonly logger: PeerLogger,
    private readonly logPrefix: string,
    private readonly onFrames: (frames: Frame[]) => void,
    curve?: PeerKeys,
    routingId?: string,
  ) {
    try {
      if (curve) applyClientSecurity(this.socket, curve);
      if (routingId !== undefined) this.socket.routingId = routingId;
      this.socket.connect(endpoint);
    } catch (error) {
      this.socket.close();
      throw error;
    }
    void this.receive();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  /**
   * Registers request `id`, arms its deadline and abort handling, then sends what `encode` returns. The promise
   * settles exactly once: with the reply `answer` matches to `id`, or with a ClientError.
   */
  request(id: string, encode: () => Frame[], tracking: Tracking): Promise<R> {
    const { deadline, signal, cancel, abortWait } = tracking;
    return new Promise<R>((resolve, reject) => {
      let abortTimer: NodeJS.Timeout | undefined;
      const deadlineTimer = setTimeout(() => {
        this.abandon(id);
        if (tracking.cancelAtDeadline !== false) cancel?.();
        reject(new ClientTimeoutError(id, deadline));
      }, deadline);
      const giveUp = (): void => {
        this.abandon(id);
        reject(new ClientAbortedError(id, { cause: signal?.reason }));
      };
      const onAbort = (): void => {
        cancel?.();
        if (abortWait === undefined) giveUp();
        else abortTimer = setTimeout(giveUp, abortWait);
      };
      const cleanup = (): void => {
        clearTimeout(deadlineTimer);
        clearTimeout(abortTimer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.pending.set(id, { resolve, reject, cleanup });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.send(encode()).catch((error: unknown) => {
        if (this.pending.get(id)?.reject !== reject) return;
        this.abandon(id);
        reject(this.isClosed ? new ClientClosedError(id) : new ClientSendError(id, { cause: error }));
      });
    });
  }

  /** Fire and forget (a best-effort CANCEL); nothing once closed. */
  post(frames: Frame[]): void {
    if (this.isClosed) return;
    this.queue.post(frames, () => undefined);
  }

  /** A decoded reply for `id`: resolves its request with `reply()`, or counts it as duplicate, late or unmatched. */
  answer(id: string | undefined, reply: (id: string) => R): void {
    const entry = id === undefined ? undefined : this.pending.get(id);
    if (id === undefined || entry === undefined) {
      this.finished.classify(id, this.stats);
      return;
    }
    entry.cleanup();
    this.pending.delete(id);
    this.finished.add(id, "answered");
    entry.resolve(reply(id));
  }

  /** A reply that could not be decoded. */
  malformed(error: unknown): void {
    this.stats.unmatched++;
    this.logger.warn(`${this.logPrefix}-malformed-reply`, { error: String(error) });
  }

  /** Rejects every pending request with ClientClosedError and closes the socket. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const [id, entry] of [...this.pending]) {
      this.abandon(id);
      entry.reject(new ClientClosedError(id));
    }
    this.queue.close();
    this.socket.close();
  }

  private abandon(id: string): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    entry.cleanup();
    this.pending.delete(id);
    this.finished.add(id, "abandoned");
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) this.onFrames(frames);
    } catch (error) {
      if (!this.isClosed) this.logger.warn(`${this.logPrefix}-receive-failed`, { error: String(error) });
    }
  }
}
