/** Latency statistics for the benchmarks: samples in nanoseconds (bigint deltas converted once). */
export interface LatencySummary {
  p50: number;
  p99: number;
}

/** Percentiles in milliseconds from a sample array in ms (sorted in place). */
export function summarise(samplesMs: Float64Array, count: number): LatencySummary {
  const view = samplesMs.subarray(0, count).sort();
  const at = (q: number): number => (count === 0 ? 0 : (view[Math.min(count - 1, Math.floor(q * count))] ?? 0));
  return { p50: round(at(0.5), 3), p99: round(at(0.99), 3) };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Keeps at most `capacity` latency samples, evenly thinned (reservoir-free: every k-th sample once full). */
export class LatencyRecorder {
  private readonly samples: Float64Array;
  private count = 0;
  private seen = 0;
  private stride = 1;

  constructor(capacity = 200_000) {
    this.samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.seen++;
    if (this.seen % this.stride !== 0) return;
    if (this.count === this.samples.length) {
      // Full: keep every other sample and double the stride, so the record stays spread over the whole run.
      for (let i = 0; i < this.count / 2; i++) this.samples[i] = this.samples[2 * i] ?? 0;
      this.count = Math.floor(this.count / 2);
      this.stride *= 2;
    }
    this.samples[this.count++] = ms;
  }

  summary(): LatencySummary {
    return summarise(this.samples, this.count);
  }
}
