/**
 * What the core counts for operators beyond the admin Counters (`ztb broker --metrics`): replies by status and failure
 * reason, and a histogram of attempt durations. Pure data kept by the core; the shell formats it (server/metrics.ts).
 */
import { FAILURE_REASONS, type FailureReason } from "../protocol/messages";

/** Upper bounds of the attempt-duration buckets, in ms (the last bucket, +Inf, is implied). */
export const ATTEMPT_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000] as const;

export interface CoreMetrics {
  /** Replies sent to clients with status failed, by reason (rejections and malformed requests included). */
  failedReplies: Record<FailureReason, number>;
  /** Attempts that ended, by how long they took: counts per bucket of ATTEMPT_BUCKETS_MS, then the +Inf bucket. */
  attemptBuckets: number[];
  attemptCount: number;
  attemptSumMs: number;
}

export function newMetrics(): CoreMetrics {
  const failedReplies = {} as Record<FailureReason, number>;
  for (const reason of FAILURE_REASONS) failedReplies[reason] = 0;
  return { failedReplies, attemptBuckets: new Array<number>(ATTEMPT_BUCKETS_MS.length + 1).fill(0), attemptCount: 0, attemptSumMs: 0 };
}

export function observeAttempt(metrics: CoreMetrics, ms: number): void {
  let i = 0;
  while (i < ATTEMPT_BUCKETS_MS.length && ms > (ATTEMPT_BUCKETS_MS[i] ?? Number.POSITIVE_INFINITY)) i++;
  metrics.attemptBuckets[i] = (metrics.attemptBuckets[i] ?? 0) + 1;
  metrics.attemptCount++;
  metrics.attemptSumMs += ms;
}

export function copyMetrics(m: CoreMetrics): CoreMetrics {
  return { ...m, failedReplies: { ...m.failedReplies }, attemptBuckets: [...m.attemptBuckets] };
}
