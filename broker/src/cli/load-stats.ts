/** The tally of `ztb client` (and of `ztb demo`, which reads it back from the client's JSON summary). */

export type Outcome =
  | {
      kind: "succeeded";
      payload: Uint8Array[];
      attempts?: number;
      worker?: string;
      elapsed?: number;
      /** The answer is not the echo of the request: a reply routed to the wrong request. */
      mismatch: boolean;
    }
  | { kind: "failed"; reason: string; message?: string; attempts?: number; worker?: string; payload: Uint8Array[] }
  /** No reply before the client-side deadline (or the client was closed). */
  | { kind: "lost"; reason: string };

export interface LoadSummary {
  requests: number;
  sent: number;
  replies: number;
  succeeded: number;
  failed: number;
  /** Failure replies by reason ("failed" in plain mode, which carries no reason). */
  failedBy: Record<string, number>;
  /** Replies after more than one attempt; null in plain mode, which does not report attempts. */
  retried: number | null;
  duplicates: number;
  mismatched: number;
  lost: number;
  seconds: number;
  rate: number;
}

export class LoadStats {
  sent = 0;
  succeeded = 0;
  failed = 0;
  lost = 0;
  duplicates = 0;
  mismatched = 0;
  private retried: number | null = null;
  private readonly failedBy: Record<string, number> = {};
  private readonly started = Date.now();

  constructor(readonly requests: number) {}

  get replies(): number {
    return this.succeeded + this.failed;
  }

  record(outcome: Outcome): void {
    this.sent++;
    if (outcome.kind === "lost") {
      this.lost++;
      return;
    }
    if (outcome.attempts !== undefined) this.retried = (this.retried ?? 0) + (outcome.attempts > 1 ? 1 : 0);
    if (outcome.kind === "succeeded") {
      this.succeeded++;
      if (outcome.mismatch) this.mismatched++;
    } else {
      this.failed++;
      this.failedBy[outcome.reason] = (this.failedBy[outcome.reason] ?? 0) + 1;
    }
  }

  addDuplicates(count: number): void {
    this.duplicates += count;
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  /** Every request sent got exactly one reply, and it was its own. */
  exactlyOnce(): boolean {
    return this.lost === 0 && this.duplicates === 0 && this.mismatched === 0 && this.replies === this.sent;
  }

  summary(): LoadSummary {
    const seconds = this.elapsedSeconds();
    return {
      requests: this.requests,
      sent: this.sent,
      replies: this.replies,
      succeeded: this.succeeded,
      failed: this.failed,
      failedBy: { ...this.failedBy },
      retried: this.retried,
      duplicates: this.duplicates,
      mismatched: this.mismatched,
      lost: this.lost,
      seconds: Math.round(seconds * 10) / 10,
      rate: seconds > 0 ? Math.round((this.sent / seconds) * 10) / 10 : 0,
    };
  }

  text(): string {
    return summaryText(this.summary());
  }
}

export function summaryText(s: LoadSummary): string {
  const reasons = Object.entries(s.failedBy)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  const failed = s.failed === 0 ? "0 failed" : `${s.failed} failed: ${reasons}`;
  return [
    `summary: ${s.sent} sent`,
    `${s.replies} answered (${s.succeeded} succeeded, ${failed})`,
    ...(s.retried === null ? [] : [`${s.retried} retried`]),
    `${s.duplicates} duplicates`,
    ...(s.mismatched === 0 ? [] : [`${s.mismatched} MISMATCHED`]),
    `${s.lost} lost`,
    `${s.seconds.toFixed(1)} s`,
    `${s.rate} requests/s`,
  ].join(", ");
}
