/**
 * The worker side's rules, pure: no sockets, no timers, no clock of their own (the caller passes `now`), so they are
 * tested like the broker core. The Worker (worker.ts) is the I/O shell around them.
 *
 * - Liveness: when to send HEARTBEAT and when the broker is dead (§Heartbeating rules 1-5).
 * - Slots: what the worker holds, counted as the broker counts it (§Capacity), with a repeated task id (rule 6) and a
 *   TASK for a service it did not announce (rule 7).
 * - When to EXTEND (rule 4's guidance).
 */
import { HEARTBEAT_MAX, HEARTBEAT_MIN, LIVENESS, REGISTRATION_INTERVAL_CAP } from "../protocol/limits";

export type LivenessDue = { action: "dead"; silentMs: number } | { action: "heartbeat" } | { action: "none" };

/** One connection's heartbeat schedule and the broker's liveness. */
export class Liveness {
  private brokerInterval: number | null = null;
  private heard = false;
  private lastSent: number;
  private lastReceived: number;

  /** `now`: when READY was sent. */
  constructor(
    readonly own: number,
    now: number,
  ) {
    this.lastSent = now;
    this.lastReceived = now;
  }

  /** The broker's latest valid announced interval, or null while it announced none. */
  get broker(): number | null {
    return this.brokerInterval;
  }

  /** Silence after which the broker is dead: 3 × its interval, or the registration window (rule 3) until then. */
  get silenceLimit(): number {
    if (this.heard && this.brokerInterval !== null) return LIVENESS * this.brokerInterval;
    return LIVENESS * Math.min(this.own, REGISTRATION_INTERVAL_CAP);
  }

  sent(now: number): void {
    this.lastSent = now;
  }

  /** Any message from the broker. Returns true for the first one on this connection: the broker accepted READY. */
  received(now: number): boolean {
    this.lastReceived = now;
    const first = !this.heard;
    this.heard = true;
    return first;
  }

  /** A broker HEARTBEAT's interval: applied within 100..60000, else ignored (rule 5). Returns whether it changed. */
  announced(interval: number): boolean {
    if (interval < HEARTBEAT_MIN || interval > HEARTBEAT_MAX || interval === this.brokerInterval) return false;
    this.brokerInterval = interval;
    return true;
  }

  due(now: number): LivenessDue {
    const silent = now - this.lastReceived;
    if (silent >= this.silenceLimit) return { action: "dead", silentMs: silent };
    if (now - this.lastSent >= this.own) return { action: "heartbeat" };
    return { action: "none" };
  }

  /** When `due` next has something to do. */
  nextDeadline(): number {
    return Math.min(this.lastSent + this.own, this.lastReceived + this.silenceLimit);
  }
}

/** What to do with a TASK (§Worker protocol rules 6-7, §Capacity). */
export type Admission<R> =
  /** Run it. `abandon` is an earlier, cancelled run of the same id still working: stop it, its answer is void. */
  | { action: "run"; abandon?: R }
  /** A service this worker did not announce: answer FAIL retryable at once. */
  | { action: "not-served" }
  /** The id is held already (the broker sent no CANCEL first): keep the running one, answer once. */
  | { action: "duplicate" }
  /** More TASKs than the capacity: the broker broke §Capacity; FAIL retryable rather than overload. */
  | { action: "over-capacity" };

/**
 * The slots a worker holds, by task id: taken by TASK, freed by its RESULT/FAIL or by CANCEL. A run cancelled with
 * `timeout` lingers (its answer may still win, rule 5) until it answers or the same id arrives again.
 */
export class Slots<R> {
  private readonly held = new Map<string, R>();
  private readonly lingering = new Map<string, R>();

  constructor(
    readonly capacity: number,
    private readonly services: readonly string[],
  ) {}

  get size(): number {
    return this.held.size;
  }

  admit(id: string, service: string): Admission<R> {
    if (!this.services.includes(service)) return { action: "not-served" };
    if (this.held.has(id)) return { action: "duplicate" };
    if (this.held.size >= this.capacity) return { action: "over-capacity" };
    const abandon = this.lingering.get(id);
    this.lingering.delete(id);
    return abandon === undefined ? { action: "run" } : { action: "run", abandon };
  }

  take(id: string, run: R): void {
    this.held.set(id, run);
  }

  get(id: string): R | undefined {
    return this.held.get(id);
  }

  /** CANCEL: frees the slot. Returns the run, which lingers after `timeout` (it may still answer). */
  cancel(id: string, lingers: boolean): R | undefined {
    const run = this.held.get(id);
    if (run === undefined) return undefined;
    this.held.delete(id);
    if (lingers) this.lingering.set(id, run);
    return run;
  }

  /**
   * A run finished. Returns whether its answer is to be sent: yes while it holds its slot (freed now), or while it
   * lingers after CANCEL timeout; no when it was replaced or cancelled otherwise.
   */
  finished(id: string, run: R): boolean {
    if (this.held.get(id) === run) {
      this.held.delete(id);
      return true;
    }
    if (this.lingering.get(id) === run) {
      this.lingering.delete(id);
      return true;
    }
    return false;
  }

  /** Every run held, e.g. to give back or abort them all. */
  runs(): [string, R][] {
    return [...this.held.entries()];
  }

  clear(): void {
    this.held.clear();
    this.lingering.clear();
  }
}

/**
 * Rule 4's guidance: when a run that is still working should next EXTEND, measured from when the TASK (or the last
 * EXTEND) left the worker's hands: once at most half of `timeout` remains. Null for a task without a deadline.
 */
export function extendDue(from: number, timeout: number | null): number | null {
  return timeout === null ? null : from + Math.floor(timeout / 2);
}
