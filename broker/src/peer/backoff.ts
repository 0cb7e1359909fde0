/**
 * Reconnect back-off: doubles from `initial` up to `max`, reset once the broker has accepted us again. Each delay is
 * lowered by up to 20 % at random so that workers reconnecting after a broker restart do not arrive in lockstep.
 */
export interface BackoffOptions {
  /** First delay in ms (default 100). */
  initial?: number;
  /** Ceiling in ms (default 5000). */
  max?: number;
}

export class Backoff {
  private readonly initial: number;
  private readonly max: number;
  private failures = 0;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initial = Math.max(1, options.initial ?? 100);
    this.max = Math.max(this.initial, options.max ?? 5000);
  }

  /** The delay before the next attempt; each call counts one more consecutive failure. */
  next(): number {
    const base = Math.min(this.max, this.initial * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.max(1, Math.round(base * (1 - 0.2 * this.random())));
  }

  reset(): void {
    this.failures = 0;
  }
}
