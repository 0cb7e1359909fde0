/**
 * Coarse relative durations for tree descriptions. Coarse on purpose: a label that changes every second would make
 * every poll re-render every row; these change at most every 10 s, then every minute, hour, day.
 */
export function coarseDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 10) return "<10s";
  if (s < 60) return `${Math.floor(s / 10) * 10}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Exact duration for tooltips and reply documents: "850 ms", "2.4 s", "3 min 5 s". */
export function exactDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  return `${Math.floor(totalSeconds / 60)} min ${totalSeconds % 60} s`;
}

/** ISO time for tooltips (UTC, millisecond precision, as the broker's timestamps). */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}
