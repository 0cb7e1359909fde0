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
  private beforeReset = 0;

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

  /** The broker accepted us: start again from the first delay (the count before is kept for `undoReset`). */
  reset(): void {
    if (this.failures > 0) this.beforeReset = this.failures;
    this.failures = 0;
  }

  /**
   * §Reconnecting: a worker disconnected for `protocol-error` continues from the delay it had before the last reset,
   * so one refused right after each registration slows down instead of reconnecting every `initial` ms.
   */
  undoReset(): void {
    this.failures = Math.max(this.failures, this.beforeReset);
  }
}
