/**
 * What the live chart plots: tasks per second (succeeded, failed, retried) from the broker's cumulative counters, and
 * queue depth per service, in one-second buckets over a sliding window. Fed with every model update the admin events
 * cause; pure (the caller passes the time), unit-tested.
 */
import type { Counters } from "../../../broker/src/protocol/messages";

export interface ChartSeries {
  /** Bucket start times, seconds since the epoch (uPlot's x axis). */
  times: number[];
  succeeded: number[];
  failed: number[];
  retried: number[];
  /** Queue depth per service at the end of each bucket (the last depth seen carried forward). */
  queues: { service: string; depth: number[] }[];
}

interface Bucket {
  succeeded: number;
  failed: number;
  retried: number;
  /** Depths seen in this second (the last one wins), undefined when none was sampled. */
  queues?: Record<string, number>;
}

type Rated = "succeeded" | "failed" | "retried";
const RATED: readonly Rated[] = ["succeeded", "failed", "retried"];

export class RateSeries {
  private readonly buckets = new Map<number, Bucket>();
  private previous: Pick<Counters, Rated> | undefined;
  private readonly services = new Set<string>();

  constructor(private readonly windowSeconds = 300) {}

  /** A new broker (or a reconnect): counters start over, so the next observation is a baseline, not a delta. */
  reset(): void {
    this.previous = undefined;
  }

  /** Records the counters (and, when sampled, the queue depths) seen at `nowMs`. */
  observe(nowMs: number, counters: Counters, queues?: Record<string, number>): void {
    const second = Math.floor(nowMs / 1000);
    let bucket = this.buckets.get(second);
    if (!bucket) this.buckets.set(second, (bucket = { succeeded: 0, failed: 0, retried: 0 }));
    if (this.previous) {
      // A counter that went down means another broker: no rate from that step.
      for (const key of RATED) bucket[key] += Math.max(0, counters[key] - this.previous[key]);
    }
    this.previous = { succeeded: counters.succeeded, failed: counters.failed, retried: counters.retried };
    if (queues) {
      bucket.queues = { ...queues };
      for (const service of Object.keys(queues)) this.services.add(service);
    }
    this.prune(second);
  }

  /** The window ending at `nowMs`, one point per second (seconds without updates have rate 0). */
  series(nowMs: number): ChartSeries {
    const end = Math.floor(nowMs / 1000);
    const start = end - this.windowSeconds + 1;
    this.prune(end);
    const out: ChartSeries = { times: [], succeeded: [], failed: [], retried: [], queues: [] };
    const services = [...this.services].sort();
    const depth = services.map((service) => ({ service, depth: [] as number[] }));
    // The depth before the window: the last sample in it, else 0.
    const last: Record<string, number> = {};
    for (let second = start; second <= end; second++) {
      const bucket = this.buckets.get(second);
      out.times.push(second);
      for (const key of RATED) out[key].push(bucket?.[key] ?? 0);
      if (bucket?.queues) for (const service of services) last[service] = bucket.queues[service] ?? 0;
      depth.forEach((d) => d.depth.push(last[d.service] ?? 0));
    }
    out.queues = depth;
    return out;
  }

  private prune(nowSecond: number): void {
    const oldest = nowSecond - this.windowSeconds;
    for (const second of this.buckets.keys()) if (second <= oldest) this.buckets.delete(second);
  }
}

/** Queued tasks per service, for `observe` (every service seen keeps a line, at 0 when its queue is empty). */
export function queueDepths(tasks: Iterable<{ service: string; state: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tasks) if (t.state === "queued") out[t.service] = (out[t.service] ?? 0) + 1;
  return out;
}
