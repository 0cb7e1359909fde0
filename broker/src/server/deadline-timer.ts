/**
 * Drives the core's clock: exactly one armed setTimeout, for `core.nextDeadline()` (the aioquic `get_timer` /
 * `handle_timer` pattern). `update` is called after every batch of inputs; it re-arms only when the deadline moved
 * earlier or the timer is idle, so the usual case (a new task deadline later than the earliest) costs a comparison.
 */

/** setTimeout's largest delay (2^31 - 1 ms); a later deadline is reached by firing early and re-arming. */
const MAX_DELAY = 2_147_483_647;

export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private armedFor: number | undefined;
  private stopped = false;

  constructor(
    private readonly onDue: () => void,
    private readonly clock: () => number = Date.now,
  ) {}

  update(deadline: number | undefined): void {
    if (this.stopped || deadline === undefined) return;
    if (this.armedFor !== undefined && this.armedFor <= deadline) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = deadline;
    const delay = Math.min(Math.max(0, deadline - this.clock()), MAX_DELAY);
    this.timer = setTimeout(this.fire, delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = undefined;
    this.onDue();
  };
}
