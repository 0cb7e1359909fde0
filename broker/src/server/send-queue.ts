/**
 * One explicit FIFO in front of each socket's `send`. zeromq.js allows a single pending send per socket (a second one
 * fails with EBUSY), so every outgoing message goes through here and is awaited in order; nothing is fire-and-forget.
 * Sends complete synchronously while the socket is writable, so the pump costs one microtask per message.
 *
 * Memory per peer, in bytes (protocol/spec.md §Limits). libzmq keeps at most ROUTER_SEND_HWM messages per peer
 * (sockets.ts); a send to a peer at that mark fails at once with EAGAIN. That peer is then blocked: the message and
 * the peer's later ones wait here, in order, in its backlog, retried with back-off until the peer reads again. A
 * backlog is bounded by `budget.perPeer` octets, and all backlogs of the queues sharing `budget` by `budget.total`; a
 * message past either bound is dropped, counted (`dropped`) and logged — at once for a peer's first drop, then at most
 * once a second per peer. The message that blocked a peer always gets into its backlog, whatever its size.
 *
 * Only backlogs count: the main queue holds what the core has just produced and is emptied within microtasks (a send to
 * a peer that is not blocked completes at once), so counting it would drop messages in a burst to peers that read.
 *
 * EHOSTUNREACH (mandatory ROUTER: the peer is gone, an ordinary race with a disconnect) is counted as unroutable, with
 * the rest of that peer's backlog.
 *
 * The peer libraries' SendQueue (broker/src/peer/send-queue.ts) shares the queue (core Deque) but not this class, on
 * purpose: a caller there awaits each message and queued ones reject on close, while the broker must not allocate a
 * promise per message (memory per queued task), counts instead of rejecting, and offers `drained()` for shutdown.
 */
import { Deque } from "../core/queues";
import type { Logger } from "./logger";
import { RateLimitedLog } from "./rate-limited-log";

export type OutgoingMessage = Uint8Array[];

export interface Sender {
  send(message: OutgoingMessage): Promise<void>;
  readonly closed: boolean;
}

export interface SendCounters {
  sent: number;
  /** EHOSTUNREACH: the peer disconnected before its message could be routed. */
  unroutable: number;
  /** Over the byte budget: the peer (or, for the total, all peers) did not read what it had been sent. */
  dropped: number;
  /** Any other send error. */
  failed: number;
}

/**
 * Octets waiting in blocked peers' backlogs, beyond what libzmq holds (§Limits, `--max-unsent`, `--max-unsent-total`).
 * One budget is shared by the broker's queues, so `total` bounds them together.
 */
export class SendBudget {
  /** Octets in backlogs now, in every queue sharing this budget. */
  used = 0;

  constructor(
    readonly perPeer: number,
    readonly total: number,
  ) {}
}

/** First retry of a peer's backlog after EAGAIN, doubled while no blocked peer makes progress, up to the maximum. */
const FIRST_RETRY_MS = 1;
const MAX_RETRY_MS = 100;

interface Waiting {
  peer: string;
  message: OutgoingMessage;
  octets: number;
}

/** What waits for a blocked peer, in order, and its octets. */
interface Backlog {
  entries: Deque<Waiting>;
  octets: number;
}

type Outcome = "sent" | "blocked" | "gone" | "failed";

export class SendQueue {
  readonly counters: SendCounters = { sent: 0, unroutable: 0, dropped: 0, failed: 0 };
  private readonly queue = new Deque<Waiting>();
  /** Blocked peers (their last send hit the high-water mark), in the order they blocked. */
  private readonly backlogs = new Map<string, Backlog>();
  private readonly limitedLog: RateLimitedLog;
  private pumping = false;
  private retryDue = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = FIRST_RETRY_MS;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly socket: Sender,
    private readonly name: string,
    private readonly logger: Logger,
    private readonly budget: SendBudget = new SendBudget(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY),
  ) {
    this.limitedLog = new RateLimitedLog(logger);
  }

  /** Messages not yet handed to libzmq, backlogs included. */
  get pending(): number {
    let count = this.queue.length + (this.pumping ? 1 : 0);
    for (const backlog of this.backlogs.values()) count += backlog.entries.length;
    return count;
  }

  /** Octets in `peer`'s backlog (0 when it is not blocked). */
  waitingFor(peer: string): number {
    return this.backlogs.get(peer)?.octets ?? 0;
  }

  /**
   * Queues `message`, whose first frame is the routing id of `peer`. Every message goes through the main queue, so a
   * blocked peer's messages reach its backlog in the order they were pushed.
   */
  push(message: OutgoingMessage, peer: string): void {
    let octets = 0;
    for (const frame of message) octets += frame.length;
    this.queue.pushBack({ peer, message, octets });
    if (!this.pumping) void this.pump();
  }

  /**
   * Resolves once every queued message has been handed to libzmq or dropped, after one more try for each blocked
   * peer; what a peer that still does not read has waiting is then given up (the socket is about to close).
   */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      if (this.backlogs.size > 0) this.scheduleRetry(0);
      else this.settle();
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    for (;;) {
      if (this.socket.closed) {
        this.forgetAll();
        break;
      }
      if (this.retryDue) {
        this.retryDue = false;
        await this.retryBlocked();
        continue;
      }
      const entry = this.queue.popFront();
      if (entry === undefined) break;
      const backlog = this.backlogs.get(entry.peer);
      if (backlog !== undefined) {
        this.admit(backlog, entry);
        continue;
      }
      const outcome = await this.sendOne(entry);
      if (outcome === "blocked") this.block(entry);
    }
    this.pumping = false;
    this.settle();
  }

  /** Into a blocked peer's backlog, or dropped when that is over the peer's or the total budget. */
  private admit(backlog: Backlog, entry: Waiting): void {
    if (backlog.octets + entry.octets > this.budget.perPeer) return this.drop(entry, "peer", backlog.octets);
    if (this.budget.used + entry.octets > this.budget.total) return this.drop(entry, "total", this.budget.used);
    backlog.entries.pushBack(entry);
    backlog.octets += entry.octets;
    this.budget.used += entry.octets;
  }

  private block(entry: Waiting): void {
    const entries = new Deque<Waiting>();
    entries.pushBack(entry);
    this.backlogs.set(entry.peer, { entries, octets: entry.octets });
    this.budget.used += entry.octets;
    if (this.logger.enabled("debug")) this.logger.debug("send-blocked", { socket: this.name, reason: "peer at high-water mark" });
    if (this.retryTimer === undefined && !this.retryDue) this.scheduleRetry(this.retryDelay);
  }

  /** Sends each blocked peer's backlog in order until the peer blocks again; backs off while nobody progresses. */
  private async retryBlocked(): Promise<void> {
    let progress = false;
    for (const [peer, backlog] of [...this.backlogs]) {
      for (let entry = backlog.entries.peekFront(); entry !== undefined; entry = backlog.entries.peekFront()) {
        const outcome = await this.sendOne(entry);
        if (outcome === "blocked") break;
        backlog.entries.popFront();
        backlog.octets -= entry.octets;
        this.budget.used -= entry.octets;
        progress = true;
        if (outcome === "gone") {
          this.discard(peer, backlog, "unroutable");
          break;
        }
      }
      if (backlog.entries.length === 0) this.backlogs.delete(peer);
    }
    if (this.idleWaiters.length > 0) {
      // drained() asked for this pass to be the last: the socket is closing, and these peers still do not read.
      for (const [peer, backlog] of [...this.backlogs]) this.discard(peer, backlog, "dropped");
    }
    if (this.backlogs.size === 0) {
      this.retryDelay = FIRST_RETRY_MS;
      return;
    }
    this.retryDelay = progress ? FIRST_RETRY_MS : Math.min(MAX_RETRY_MS, this.retryDelay * 2);
    this.scheduleRetry(this.retryDelay);
  }

  private async sendOne(entry: Waiting): Promise<Outcome> {
    try {
      await this.socket.send(entry.message);
      this.counters.sent++;
      return "sent";
    } catch (err) {
      return this.onError(err);
    }
  }

  private scheduleRetry(delay: number): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryDue = true;
      if (!this.pumping) void this.pump();
    }, delay);
  }

  /** Empties a peer's backlog, counting each message under `counter`, and forgets that the peer was blocked. */
  private discard(peer: string, backlog: Backlog, counter: "unroutable" | "dropped"): void {
    this.counters[counter] += backlog.entries.length;
    this.budget.used -= backlog.octets;
    backlog.entries.clear();
    backlog.octets = 0;
    this.backlogs.delete(peer);
  }

  /** The socket is closed: nothing more can be sent. */
  private forgetAll(): void {
    this.queue.clear();
    for (const [peer, backlog] of [...this.backlogs]) this.discard(peer, backlog, "dropped");
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryDue = false;
  }

  /** Resolves drained() once nothing is queued, being sent, or blocked. */
  private settle(): void {
    if (this.pumping || this.queue.length > 0 || this.retryDue || this.backlogs.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private drop(entry: Waiting, over: "peer" | "total", waiting: number): void {
    this.counters.dropped++;
    const budget = over === "peer" ? this.budget.perPeer : this.budget.total;
    const fields = { socket: this.name, over, octets: entry.octets, waiting, budget };
    this.limitedLog.warn(over === "peer" ? `${this.name}:${entry.peer}` : `${this.name}:total`, "send-over-budget", fields);
  }

  private onError(err: unknown): Outcome {
    const code = errorCode(err);
    if (code === "EAGAIN") return "blocked";
    if (code === "EHOSTUNREACH") {
      this.counters.unroutable++;
      if (this.logger.enabled("debug")) this.logger.debug("send-unroutable", { socket: this.name });
      return "gone";
    }
    this.counters.failed++;
    this.logger.error("send-failed", { socket: this.name, code: code ?? null, message: errorMessage(err) });
    return "failed";
  }
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
