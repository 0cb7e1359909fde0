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

/**
 * A point in time for tooltips and reply documents, in the machine's time zone as the rest of the editor shows times:
 * "2023-11-14 23:13:20". The broker's UTC milliseconds stay in the API and in the log.
 */
export function timestamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
