/** A one-line progress bar on a terminal (done/total, failures, rate); nothing at all when not a TTY. */
import type { LoadStats } from "./load-stats";

interface Terminal {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

const REDRAW_MS = 100;

export class Progress {
  private readonly enabled: boolean;
  private shown = false;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly terminal: Terminal,
    private readonly stats: LoadStats,
  ) {
    this.enabled = terminal.isTTY === true;
  }

  start(): void {
    if (!this.enabled) return;
    this.draw();
    // Redraw while waiting too, so a stalled run shows a falling rate rather than a frozen line.
    this.timer = setInterval(() => this.draw(), 500);
  }

  /** Redraws at most every 100 ms. */
  update(): void {
    if (this.enabled && Date.now() - this.lastDraw >= REDRAW_MS) this.draw();
  }

  /** Erases the bar so that a line can be printed; the next update draws it again. */
  clear(): void {
    if (!this.shown) return;
    this.terminal.write("\r\x1b[K");
    this.shown = false;
  }

  stop(): void {
    clearInterval(this.timer);
    this.clear();
  }

  private draw(): void {
    this.lastDraw = Date.now();
    const { sent, requests, failed, lost } = this.stats;
    const seconds = this.stats.elapsedSeconds();
    const rate = seconds > 0 ? (sent / seconds).toFixed(1) : "0.0";
    const tail = ` ${sent}/${requests}  failed ${failed}${lost > 0 ? `  lost ${lost}` : ""}  ${rate} req/s`;
    // Some pseudo-terminals report 0 columns: assume 80 then.
    const columns = this.terminal.columns !== undefined && this.terminal.columns > 0 ? this.terminal.columns : 80;
    const width = Math.max(10, Math.min(40, columns - tail.length - 3));
    const filled = requests === 0 ? width : Math.round((sent / requests) * width);
    this.terminal.write(`\r\x1b[K[${"#".repeat(filled)}${"-".repeat(width - filled)}]${tail}`);
    this.shown = true;
  }
}
