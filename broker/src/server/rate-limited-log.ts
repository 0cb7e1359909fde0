/**
 * Warnings a hostile peer could make the broker write without end (accept failures at the descriptor limit, sends
 * dropped at a peer's byte budget): at most one line per key per interval, the next one saying how many were
 * suppressed since (protocol/spec.md §What the receiver does uses the same rule for malformed messages).
 */
import type { LogFields, Logger } from "./logger";

export const LOG_INTERVAL_MS = 1000;
/** Keys are often peers; past this many the oldest state is forgotten, so the map cannot grow with an attack. */
const MAX_KEYS = 10_000;

export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    private readonly interval: number = LOG_INTERVAL_MS,
  ) {}

  /** Writes `event` at warn unless a line with the same key was written less than `interval` ago. */
  warn(key: string, event: string, fields: LogFields): void {
    if (!this.logger.enabled("warn")) return;
    const now = this.clock();
    const state = this.last.get(key);
    if (state !== undefined && now - state.at < this.interval) {
      state.suppressed++;
      return;
    }
    if (state === undefined && this.last.size >= MAX_KEYS) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    this.logger.warn(event, state === undefined || state.suppressed === 0 ? fields : { ...fields, suppressed: state.suppressed });
    this.last.delete(key); // re-inserted last: Map order is then oldest-first for the eviction above
    this.last.set(key, { at: now, suppressed: 0 });
  }
}
