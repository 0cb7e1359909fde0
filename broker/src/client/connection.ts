/**
 * The plumbing both clients share (protocol/spec.md §Client <-> broker): the link to the broker (one DEALER and its
 * send queue), the requests in flight by correlation id with their client-side deadline and abort handling, what
 * became of finished ones, and close(). The clients keep only what differs: how a request is encoded and how a reply
 * is matched.
 *
 * Given several endpoints, the connection fails over (§Failing over): one broker at a time; when the link judges
 * its broker gone, the link is closed, the next endpoint in turn gets a new one, and every request still in flight
 * is sent again as it was first encoded (same correlation id, same idempotency key). A request therefore settles
 * once, with the first reply for its id; later ones are counted as duplicates or late.
 */
import type { Frame } from "../protocol/messages";
import type { PeerLogger } from "../peer/logger";
import type { PeerKeys } from "../security/curve-client";
import { ClientAbortedError, ClientClosedError, ClientSendError, ClientTimeoutError } from "./errors";
import { Link, type GoneReason, type Watch } from "./link";
import { FinishedIds, IdGenerator, type ClientStats } from "./pending";
import { EndpointRotation } from "./rotation";

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

export interface ConnectionOptions {
  /** One endpoint, or several to fail over between. */
  endpoints: readonly string[];
  curve?: PeerKeys;
  routingId?: string;
  /** How a broker is judged gone; required with several endpoints, unused with one. */
  watch?: Watch;
}

interface Pending<R> {
  readonly resolve: (reply: R) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
  /** The request's frames, built again for each broker it is sent to. */
  readonly encode: () => Frame[];
}

export class ClientConnection<R> {
  readonly stats: ClientStats = { duplicates: 0, late: 0, unmatched: 0, resent: 0, failovers: 0, resends: 0 };
  readonly ids = new IdGenerator();

  private readonly pending = new Map<string, Pending<R>>();
  private readonly finished = new FinishedIds();
  /** Undefined with one endpoint: nothing is judged, libzmq reconnects to it as it always has. */
  private readonly rotation: EndpointRotation | undefined;
  /** Undefined while waiting out a back-off between brokers. */
  private link: Link | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private isClosed = false;

  /**
   * Connects to the first endpoint at once; throws if it is invalid (libzmq's EINVAL). `onFrames` gets every message
   * received; `logPrefix` names the log events (`<prefix>-receive-failed`, `<prefix>-malformed-reply`,
   * `<prefix>-failover`).
   */
  constructor(
    private readonly options: ConnectionOptions,
    private readonly logger: PeerLogger,
    private readonly logPrefix: string,
    private readonly onFrames: (frames: Frame[]) => void,
  ) {
    const [first] = options.endpoints;
    if (first === undefined) throw new RangeError("at least one endpoint is needed");
    if (options.endpoints.length > 1 && options.watch === undefined) throw new RangeError("failing over needs a watch");
    this.rotation = options.endpoints.length > 1 ? new EndpointRotation(options.endpoints) : undefined;
    this.link = this.connect(first);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Whether requests are sent to several brokers in turn. */
  get failsOver(): boolean {
    return this.rotation !== undefined;
  }

  /** The endpoint of the broker currently in use (or about to be, during a back-off). */
  get endpoint(): string {
    return this.rotation?.current ?? this.options.endpoints[0] ?? "";
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  /**
   * Registers request `id`, arms its deadline and abort handling, then sends what `encode` returns (again after each
   * failover). The promise settles exactly once: with the reply `answer` matches to `id`, or with a ClientError.
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
      const entry: Pending<R> = { resolve, reject, cleanup, encode };
      this.pending.set(id, entry);
      signal?.addEventListener("abort", onAbort, { once: true });
      // Between brokers (a back-off): the next link sends it with the others.
      if (this.link !== undefined) this.send(this.link, id, entry);
    });
  }

  /** Fire and forget (a best-effort CANCEL) to the current broker; nothing once closed or between brokers. */
  post(frames: Frame[]): void {
    if (this.isClosed) return;
    this.link?.post(frames);
  }

  /** A decoded reply for `id`: resolves its request with `reply()`, or counts it as duplicate, late or unmatched. */
  answer(id: string | undefined, reply: (id: string) => R): void {
    this.rotation?.answered();
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
    clearTimeout(this.reopenTimer);
    for (const [id, entry] of [...this.pending]) {
      this.abandon(id);
      entry.reject(new ClientClosedError(id));
    }
    this.link?.close();
    this.link = undefined;
  }

  private connect(endpoint: string): Link {
    const { curve, routingId, watch } = this.options;
    const link: Link = new Link(
      endpoint,
      { curve, routingId, ...(this.rotation === undefined || watch === undefined ? {} : { watch }) },
      {
        frames: (frames) => this.onFrames(frames),
        gone: (reason) => this.failOver(link, reason),
        receiveFailed: (error) => this.logger.warn(`${this.logPrefix}-receive-failed`, { error: String(error) }),
      },
    );
    return link;
  }

  private send(link: Link, id: string, entry: Pending<R>): void {
    link.send(entry.encode()).catch((error: unknown) => {
      if (this.pending.get(id) !== entry) return;
      if (this.isClosed) {
        this.abandon(id);
        entry.reject(new ClientClosedError(id));
        return;
      }
      // A link closed by a failover dropped it: the next link sends it again.
      if (this.link !== link) return;
      this.abandon(id);
      entry.reject(new ClientSendError(id, { cause: error }));
    });
  }

  /** The broker behind `link` is judged gone: close it and move to the next endpoint. */
  private failOver(link: Link, reason: GoneReason): void {
    if (this.link !== link || this.isClosed) return;
    link.close();
    this.link = undefined;
    this.moveOn(link.endpoint, reason);
  }

  private moveOn(from: string, reason: GoneReason | "invalid-endpoint"): void {
    if (this.rotation === undefined) return;
    const next = this.rotation.advance();
    this.stats.failovers++;
    this.logger.warn(`${this.logPrefix}-failover`, { from, to: next.endpoint, reason, delay: next.delay, pending: this.pending.size });
    this.reopenTimer = setTimeout(() => this.reopen(next.endpoint), next.delay);
  }

  private reopen(endpoint: string): void {
    this.reopenTimer = undefined;
    if (this.isClosed) return;
    let link: Link;
    try {
      link = this.connect(endpoint);
    } catch (error) {
      // Only a later endpoint can be invalid here (the constructor connected to the first): skip it, loudly.
      this.logger.error(`${this.logPrefix}-endpoint-invalid`, { endpoint, error: String(error) });
      this.moveOn(endpoint, "invalid-endpoint");
      return;
    }
    this.link = link;
    for (const [id, entry] of this.pending) {
      this.stats.resends++;
      this.send(link, id, entry);
    }
  }

  private abandon(id: string): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    entry.cleanup();
    this.pending.delete(id);
    this.finished.add(id, "abandoned");
  }
}
