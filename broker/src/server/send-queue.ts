/**
 * One explicit FIFO in front of each socket's `send`. zeromq.js allows a single pending send per socket (a second one
 * fails with EBUSY), so every outgoing message goes through here and is awaited in order; nothing is fire-and-forget.
 * Sends complete synchronously while the socket is writable, so the pump costs one microtask per message.
 *
 * Memory per peer, in bytes (protocol/spec.md §Limits). libzmq keeps at most ROUTER_SEND_HWM messages per peer
 * (sockets.ts); a send to a peer at that mark fails at once with EAGAIN. The peer's later messages then wait here, in
 * order, in its backlog, and are retried with back-off until the peer reads again. What waits here for one peer is
 * bounded by `budget.perPeer` octets, and what waits for all peers of all queues sharing `budget` by `budget.total`:
 * a message past either bound is dropped, counted (`dropped`) and logged — at once for a peer's first drop, then at
 * most once a second per peer. A peer with nothing waiting may always queue one message, whatever its size, so a
 * message within --max-message is never refused to a peer that reads.
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
 * Octets waiting in the send queues, beyond what libzmq holds (§Limits, `--max-unsent`, `--max-unsent-total`). One
 * budget is shared by the broker's queues, so `total` bounds them together.
 */
export class SendBudget {
  /** Octets waiting now, in every queue sharing this budget. */
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

/**
 * What waits for one peer: its octets (in the main queue and its backlog), how many of its messages are in the main
 * queue, and its backlog while it is blocked.
 */
interface PeerState {
  octets: number;
  queued: number;
  backlog: Deque<Waiting> | undefined;
}

type Outcome = "sent" | "blocked" | "gone" | "failed";

export class SendQueue {
  readonly counters: SendCounters = { sent: 0, unroutable: 0, dropped: 0, failed: 0 };
  private readonly queue = new Deque<Waiting>();
  /** Peers with octets waiting; an entry is removed as soon as its octets reach 0 and it is not blocked. */
  private readonly peers = new Map<string, PeerState>();
  /** Peers whose last send hit their high-water mark, in the order they blocked. */
  private readonly blocked = new Set<string>();
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

  /** Messages not yet handed to libzmq (including blocked peers' backlogs). */
  get pending(): number {
    let count = this.queue.length + (this.pumping ? 1 : 0);
    for (const peer of this.blocked) count += this.peers.get(peer)?.backlog?.length ?? 0;
    return count;
  }

  /** Octets waiting for `peer` (0 when nothing waits). */
  waitingFor(peer: string): number {
    return this.peers.get(peer)?.octets ?? 0;
  }

  /** Queues `message` (its first frame is the routing id of `peer`), or drops it when over the budget. */
  push(message: OutgoingMessage, peer: string): void {
    let octets = 0;
    for (const frame of message) octets += frame.length;
    const state = this.peers.get(peer);
    const waiting = state?.octets ?? 0;
    if (waiting > 0 && waiting + octets > this.budget.perPeer) return this.drop(peer, octets, "peer");
    if (this.budget.used > 0 && this.budget.used + octets > this.budget.total) return this.drop(peer, octets, "total");
    const entry: Waiting = { peer, message, octets };
    this.budget.used += octets;
    if (state?.backlog !== undefined && state.queued === 0) {
      state.octets += octets;
      state.backlog.pushBack(entry); // behind what already waits for that blocked peer
      return;
    }
    // Through the main queue, also for a blocked peer that still has messages there: they reach its backlog in order.
    if (state === undefined) this.peers.set(peer, { octets, queued: 1, backlog: undefined });
    else {
      state.octets += octets;
      state.queued++;
    }
    this.queue.pushBack(entry);
    if (!this.pumping) void this.pump();
  }

  /**
   * Resolves once every queued message has been handed to libzmq or dropped, after one more try for each blocked
   * peer; what a peer that still does not read has waiting is then given up (the socket is about to close).
   */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      if (this.blocked.size > 0) this.scheduleRetry(0);
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
      const state = this.peers.get(entry.peer);
      if (state !== undefined) state.queued--;
      if (state?.backlog !== undefined) {
        state.backlog.pushBack(entry); // the peer blocked after this message was queued
        continue;
      }
      const outcome = await this.sendOne(entry);
      if (outcome === "blocked") this.block(entry);
      else if (outcome === "gone") this.forgetPeer(entry.peer);
    }
    this.pumping = false;
    this.settle();
  }

  /** Sends each blocked peer's backlog in order until the peer blocks again; backs off while nobody progresses. */
  private async retryBlocked(): Promise<void> {
    let progress = false;
    for (const peer of [...this.blocked]) {
      const backlog = this.peers.get(peer)?.backlog;
      for (let entry = backlog?.popFront(); entry !== undefined; entry = backlog?.popFront()) {
        const outcome = await this.sendOne(entry);
        if (outcome === "blocked") {
          backlog?.pushFront(entry);
          break;
        }
        progress = true;
        if (outcome === "gone") {
          this.forgetPeer(peer);
          break;
        }
      }
      if (backlog !== undefined && backlog.length === 0) this.unblock(peer);
    }
    if (this.idleWaiters.length > 0) {
      // drained() asked for this pass to be the last: the socket is closing, and these peers still do not read.
      for (const peer of [...this.blocked]) this.giveUp(peer);
    }
    if (this.blocked.size === 0) {
      this.retryDelay = FIRST_RETRY_MS;
      return;
    }
    this.retryDelay = progress ? FIRST_RETRY_MS : Math.min(MAX_RETRY_MS, this.retryDelay * 2);
    this.scheduleRetry(this.retryDelay);
  }

  private async sendOne(entry: Waiting): Promise<Outcome> {
    let outcome: Outcome;
    try {
      await this.socket.send(entry.message);
      this.counters.sent++;
      outcome = "sent";
    } catch (err) {
      outcome = this.onError(err);
    }
    if (outcome !== "blocked") this.release(entry);
    return outcome;
  }

  private block(entry: Waiting): void {
    const state = this.peers.get(entry.peer);
    if (state === undefined) return;
    state.backlog = new Deque<Waiting>();
    state.backlog.pushBack(entry);
    this.blocked.add(entry.peer);
    if (this.logger.enabled("debug")) this.logger.debug("send-blocked", { socket: this.name, reason: "peer at high-water mark" });
    if (this.retryTimer === undefined && !this.retryDue) this.scheduleRetry(this.retryDelay);
  }

  private unblock(peer: string): void {
    this.blocked.delete(peer);
    const state = this.peers.get(peer);
    if (state === undefined) return;
    state.backlog = undefined;
    if (state.octets <= 0 && state.queued === 0) this.peers.delete(peer);
  }

  private scheduleRetry(delay: number): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryDue = true;
      if (!this.pumping) void this.pump();
    }, delay);
  }

  /** The message left this queue (sent, or given up): its octets no longer count. */
  private release(entry: Waiting): void {
    this.budget.used -= entry.octets;
    const state = this.peers.get(entry.peer);
    if (state === undefined) return;
    state.octets -= entry.octets;
    if (state.octets <= 0 && state.queued === 0 && state.backlog === undefined) this.peers.delete(entry.peer);
  }

  /** The peer is gone: what waits in its backlog cannot be routed either. */
  private forgetPeer(peer: string): void {
    const backlog = this.peers.get(peer)?.backlog;
    for (let entry = backlog?.popFront(); entry !== undefined; entry = backlog?.popFront()) {
      this.counters.unroutable++;
      this.release(entry);
    }
    this.unblock(peer);
  }

  /** Drops what still waits for a blocked peer (counted as dropped). */
  private giveUp(peer: string): void {
    const backlog = this.peers.get(peer)?.backlog;
    for (let entry = backlog?.popFront(); entry !== undefined; entry = backlog?.popFront()) {
      this.counters.dropped++;
      this.release(entry);
    }
    this.unblock(peer);
  }

  /** The socket is closed: nothing more can be sent. */
  private forgetAll(): void {
    for (let entry = this.queue.popFront(); entry !== undefined; entry = this.queue.popFront()) {
      const state = this.peers.get(entry.peer);
      if (state !== undefined) state.queued--;
      this.release(entry);
    }
    for (const peer of [...this.blocked]) this.giveUp(peer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryDue = false;
  }

  /** Resolves drained() once nothing is queued, being sent, or blocked. */
  private settle(): void {
    if (this.pumping || this.queue.length > 0 || this.retryDue || this.blocked.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private drop(peer: string, octets: number, over: "peer" | "total"): void {
    this.counters.dropped++;
    const fields = {
      socket: this.name,
      over,
      octets,
      waiting: over === "peer" ? (this.peers.get(peer)?.octets ?? 0) : this.budget.used,
      budget: over === "peer" ? this.budget.perPeer : this.budget.total,
    };
    this.limitedLog.warn(over === "peer" ? `${this.name}:${peer}` : `${this.name}:total`, "send-over-budget", fields);
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
