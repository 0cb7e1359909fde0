/**
 * The enveloped client (protocol/spec.md §Client <-> broker, enveloped mode) over a DEALER socket: many requests in
 * flight at once, each REQUEST carrying a correlation id that the REPLY echoes.
 *
 * Client-side deadline: the broker answers every accepted request exactly once, but a broker that is gone answers
 * nothing, so every request also has a local deadline. Default: 30 s, or timeout x attempts + 5 s when the request
 * sets both and that is longer (time spent queued for a worker is not bounded by the broker, so this is a guard
 * against a dead broker, not a prediction). On expiry the request rejects with ClientTimeoutError and a best-effort
 * CANCEL tells the broker to stop working on it.
 */
import { Dealer } from "zeromq";
import { decodeClientReply, encodeClient } from "../codec";
import type { FailureReason, Frame, ReplyDetail, RequestOptions } from "../protocol/messages";
import { toFrames, type PayloadLike } from "../peer/frames";
import { silentLogger, type PeerLogger } from "../peer/logger";
import { SendQueue } from "../peer/send-queue";
import { ClientAbortedError, ClientClosedError, ClientSendError, ClientTimeoutError } from "./errors";
import { FinishedIds, IdGenerator, type ClientStats } from "./pending";

export interface ClientOptions {
  /** The broker's clients endpoint, e.g. tcp://localhost:4161. */
  endpoint: string;
  /** Default client-side deadline in ms (see the module comment); default 30000. */
  deadline?: number;
  /** How long an aborted request waits for the broker's `cancelled` reply before rejecting; default 1000 ms. */
  cancelWait?: number;
  logger?: PeerLogger;
}

export interface RequestCallOptions {
  /** Default "default". */
  service?: string;
  /** Per-attempt timeout in ms (clamped by the broker's -T). */
  timeout?: number;
  /** Max attempts (clamped by the broker's -t). */
  attempts?: number;
  /** Correlation id (<= 128 characters); generated when absent. */
  id?: string;
  /** Aborting sends CANCEL; the promise then resolves with the broker's reply (normally failed/cancelled). */
  signal?: AbortSignal;
  /** Client-side deadline in ms for this request. */
  deadline?: number;
}

export interface Reply {
  status: "succeeded" | "failed";
  reason?: FailureReason;
  message?: string;
  /** Attempts the broker made. */
  attempts: number;
  /** The worker that answered (or ran the last attempt). */
  worker?: string;
  /** ms from the broker accepting the request to its reply. */
  elapsed: number;
  task?: string;
  /** The correlation id. */
  id: string;
  /** Codec error code when reason is "malformed". */
  error?: string;
  payload: Uint8Array[];
}

interface Pending {
  readonly id: string;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

const EMPTY: Frame = new Uint8Array(0);
const DEFAULT_DEADLINE_MS = 30_000;
const DEADLINE_MARGIN_MS = 5_000;

export class Client {
  readonly stats: ClientStats = { duplicates: 0, late: 0, unmatched: 0 };

  private readonly socket = new Dealer({ linger: 0 });
  private readonly queue = new SendQueue(this.socket);
  private readonly pending = new Map<string, Pending>();
  private readonly finished = new FinishedIds();
  private readonly ids = new IdGenerator();
  private readonly logger: PeerLogger;
  private closed = false;

  /** Connects at once; throws if the endpoint is invalid (libzmq's EINVAL). */
  constructor(private readonly options: ClientOptions) {
    this.logger = options.logger ?? silentLogger;
    try {
      this.socket.connect(options.endpoint);
    } catch (error) {
      this.socket.close();
      throw error;
    }
    void this.receive();
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  request(payload: PayloadLike, options: RequestCallOptions = {}): Promise<Reply> {
    const id = options.id ?? this.ids.next();
    if (this.closed) return Promise.reject(new ClientClosedError(id));
    if (id.length < 1 || id.length > 128) return Promise.reject(new RangeError("request id must be 1..128 characters"));
    if (this.pending.has(id)) return Promise.reject(new RangeError(`request id ${id} is already in flight`));
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(new ClientAbortedError(id, { cause: signal.reason }));

    const deadline = options.deadline ?? this.defaultDeadline(options);
    return new Promise<Reply>((resolve, reject) => {
      let cancelTimer: NodeJS.Timeout | undefined;
      const deadlineTimer = setTimeout(() => {
        this.abandon(id);
        this.sendCancel(id);
        reject(new ClientTimeoutError(id, deadline));
      }, deadline);
      const onAbort = (): void => {
        this.sendCancel(id);
        cancelTimer = setTimeout(() => {
          this.abandon(id);
          reject(new ClientAbortedError(id, { cause: signal?.reason }));
        }, this.options.cancelWait ?? 1000);
      };
      const cleanup = (): void => {
        clearTimeout(deadlineTimer);
        clearTimeout(cancelTimer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.pending.set(id, { id, resolve, reject, cleanup });
      signal?.addEventListener("abort", onAbort, { once: true });

      const requestOptions: RequestOptions = { id };
      if (options.service !== undefined) requestOptions.service = options.service;
      if (options.timeout !== undefined) requestOptions.timeout = options.timeout;
      if (options.attempts !== undefined) requestOptions.attempts = options.attempts;
      const frames = encodeClient({ type: "request", path: [EMPTY], options: requestOptions, payload: toFrames(payload) });
      this.queue.send(frames).catch((error: unknown) => {
        if (this.pending.get(id)?.reject !== reject) return;
        this.abandon(id);
        reject(this.closed ? new ClientClosedError(id) : new ClientSendError(id, { cause: error }));
      });
    });
  }

  /** Rejects every pending request with ClientClosedError and closes the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of [...this.pending.values()]) {
      this.abandon(entry.id);
      entry.reject(new ClientClosedError(entry.id));
    }
    this.queue.close();
    this.socket.close();
  }

  private defaultDeadline(options: RequestCallOptions): number {
    const base = this.options.deadline ?? DEFAULT_DEADLINE_MS;
    if (options.timeout === undefined || options.attempts === undefined) return base;
    return Math.max(base, options.timeout * options.attempts + DEADLINE_MARGIN_MS);
  }

  private abandon(id: string): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    entry.cleanup();
    this.pending.delete(id);
    this.finished.add(id, "abandoned");
  }

  private sendCancel(id: string): void {
    if (this.closed) return;
    this.queue.post(encodeClient({ type: "cancel", path: [EMPTY], id }), () => undefined);
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) this.onFrames(frames);
    } catch (error) {
      if (!this.closed) this.logger.warn("client-receive-failed", { error: String(error) });
    }
  }

  private onFrames(frames: Frame[]): void {
    let detail: ReplyDetail;
    let payload: Frame[];
    try {
      const msg = decodeClientReply(frames);
      if (msg.type !== "reply") throw new Error("plain reply on an enveloped client");
      detail = msg.detail;
      payload = msg.payload;
    } catch (error) {
      this.stats.unmatched++;
      this.logger.warn("client-malformed-reply", { error: String(error) });
      return;
    }
    const entry = detail.id === undefined ? undefined : this.pending.get(detail.id);
    if (entry === undefined) {
      this.finished.classify(detail.id, this.stats);
      return;
    }
    entry.cleanup();
    this.pending.delete(entry.id);
    this.finished.add(entry.id, "answered");
    entry.resolve(toReply(entry.id, detail, payload));
  }
}

function toReply(id: string, detail: ReplyDetail, payload: Frame[]): Reply {
  const reply: Reply = { status: detail.status, attempts: detail.attempts, elapsed: detail.elapsed, id, payload };
  if (detail.reason !== undefined) reply.reason = detail.reason;
  if (detail.message !== undefined) reply.message = detail.message;
  if (detail.worker !== undefined) reply.worker = detail.worker;
  if (detail.task !== undefined) reply.task = detail.task;
  if (detail.error !== undefined) reply.error = detail.error;
  return reply;
}
