/**
 * The chaos run (issue: reliability, part 1): a broker with `-t 3 -T 1`, modern, library and legacy workers that drop,
 * FAIL, answer late and answer twice, one worker SIGKILLed and restarted every `killEvery` ms, and plain and enveloped
 * clients sending `requests` requests. Used by `npm run chaos` (main.ts, the full run) and by chaos.test.ts (short).
 */
import { AdminMonitor, type KillWatch } from "./admin-monitor";
import { DEFAULT_MISBEHAVIOUR, type Misbehaviour } from "./behaviour";
import { type BrokerProcess, residentBytes, spawnBroker } from "./broker-process";
import { ChaosLoad, type ClientMode } from "./chaos-load";
import { WorkerPool, type WorkerSpec } from "./worker-pool";

export interface ChaosOptions {
  requests: number;
  /** ms between worker kills; 0 = none. */
  killEvery: number;
  workers: readonly WorkerSpec[];
  clients: readonly ClientMode[];
  /** Requests in flight per client. */
  window: number;
  tries: number;
  /** The broker's -T in ms. */
  timeout: number;
  misbehaviour: Misbehaviour;
  cancelRate: number;
  seed: number;
  /** Called every `progressEvery` ms with a one-line status. */
  progress?: (line: string) => void;
  progressEvery: number;
}

export const DEFAULT_WORKERS: readonly WorkerSpec[] = [
  { kind: "modern", capacity: 32 },
  { kind: "modern", capacity: 32 },
  { kind: "modern", capacity: 32 },
  { kind: "library", capacity: 16 },
  { kind: "legacy", capacity: 1 },
  { kind: "legacy", capacity: 1 },
];

export const DEFAULT_OPTIONS: ChaosOptions = {
  requests: 50_000,
  killEvery: 3000,
  workers: DEFAULT_WORKERS,
  clients: ["enveloped", "enveloped", "plain", "plain"],
  window: 40,
  tries: 3,
  timeout: 1000,
  misbehaviour: DEFAULT_MISBEHAVIOUR,
  cancelRate: 0.005,
  seed: 2010,
  progressEvery: 3000,
};

/** Peak broker RSS allowed: history and queues are bounded, so this does not depend on the request count. */
export const RSS_LIMIT = 256 * 1024 * 1024;

export interface RssSample {
  at: number;
  replies: number;
  rss: number;
}

export interface ChaosSummary {
  requests: number;
  sent: number;
  replies: number;
  succeeded: number;
  failures: Record<string, number>;
  unjustified: string[];
  lost: string[];
  duplicates: number;
  misrouted: string[];
  cancelledSent: number;
  seconds: number;
  kills: number;
  killWatches: KillWatch[];
  unexpectedWorkerExits: string[];
  brokerExit: string | undefined;
  /** The broker's own counters at the end (admin SNAPSHOT). */
  brokerCounters: { requests: number; replies: number; late: number; retried: number; rejected: number; queued: number; running: number } | undefined;
  eventGaps: number;
  rssPeak: number;
  /** RSS when 25, 50, 75 and 100 % of the replies had arrived. */
  rssAt: { percent: number; rss: number }[];
  brokerLogLines: Record<string, number>;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const started = Date.now();
  const tries = String(options.tries);
  const seconds = String(options.timeout / 1000);
  const broker = await spawnBroker(["-t", tries, "-T", seconds, "--heartbeat", "500", "--log-level", "warn"]);
  let brokerExit: string | undefined;
  void broker.exited.then((code) => (brokerExit = `broker exited (${String(code)})`));
  const monitor = new AdminMonitor(broker.endpoints.admin);
  const pool = new WorkerPool(
    {
      workers: broker.endpoints.workers,
      answers: broker.endpoints.answers,
      timeout: options.timeout,
      misbehaviour: options.misbehaviour,
      seed: options.seed,
    },
    options.workers,
  );
  const load = new ChaosLoad({
    endpoint: broker.endpoints.clients,
    requests: options.requests,
    clients: options.clients,
    window: options.window,
    deadline: 20_000,
    tries: options.tries,
    cancelRate: options.cancelRate,
    seed: options.seed,
  });
  const samples: RssSample[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    await monitor.start();
    await pool.start();
    timers.push(setInterval(() => sample(broker, load, samples), 250));
    if (options.killEvery > 0) {
      let victim = 0;
      timers.push(
        setInterval(() => {
          const slot = pool.slots[victim++ % pool.slots.length];
          if (slot === undefined) return;
          if (slot.spec.kind !== "legacy") monitor.watchKill(slot.name, Date.now());
          pool.kill(slot.index);
        }, options.killEvery),
      );
    }
    if (options.progress !== undefined) {
      const progress = options.progress;
      timers.push(setInterval(() => progress(progressLine(started, options, load, pool, samples)), options.progressEvery));
    }
    await load.run();
    for (const timer of timers.splice(0)) clearInterval(timer);
    sample(broker, load, samples);
    // Plain failures learn their reason from EVENTs, which trail the replies by up to 100 ms.
    for (let wait = 0; wait < 40 && load.result.plainFailures.length > 0; wait++) {
      load.justifyPlain(monitor.failures);
      if (load.result.plainFailures.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const tag of load.result.plainFailures) load.result.unjustified.push(`${tag}: plain failure the broker never reported`);
    const snapshot = brokerExit === undefined ? await monitor.snapshot() : undefined;
    const counters = snapshot?.counters;
    const result = load.result;
    return {
      requests: options.requests,
      sent: result.sent,
      replies: result.replies,
      succeeded: result.succeeded,
      failures: Object.fromEntries([...result.failures].sort((a, b) => b[1] - a[1])),
      unjustified: result.unjustified,
      lost: result.lost,
      duplicates: result.duplicates + load.libraryDuplicates(),
      misrouted: result.misrouted,
      cancelledSent: result.cancelledSent,
      seconds: (Date.now() - started) / 1000,
      kills: pool.kills,
      killWatches: monitor.watches,
      unexpectedWorkerExits: pool.unexpectedExits,
      brokerExit,
      brokerCounters: counters && {
        requests: counters.requests,
        replies: counters.replies,
        late: counters.late,
        retried: counters.retried,
        rejected: counters.rejected,
        queued: counters.queued,
        running: counters.running,
      },
      eventGaps: monitor.gaps,
      rssPeak: Math.max(0, ...samples.map((s) => s.rss)),
      rssAt: [25, 50, 75, 100].map((percent) => ({ percent, rss: rssAtPercent(samples, result.sent, percent) })),
      brokerLogLines: Object.fromEntries(broker.events),
    };
  } finally {
    for (const timer of timers) clearInterval(timer);
    load.close();
    monitor.close();
    await pool.stop();
    await broker.stop(0);
  }
}

function sample(broker: BrokerProcess, load: ChaosLoad, samples: RssSample[]): void {
  const rss = residentBytes(broker.pid);
  if (rss !== undefined) samples.push({ at: Date.now(), replies: load.result.replies, rss });
}

function rssAtPercent(samples: readonly RssSample[], total: number, percent: number): number {
  const target = (total * percent) / 100;
  return (samples.find((s) => s.replies >= target) ?? samples[samples.length - 1])?.rss ?? 0;
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

function progressLine(started: number, options: ChaosOptions, load: ChaosLoad, pool: WorkerPool, samples: RssSample[]): string {
  const r = load.result;
  const failed = [...r.failures.values()].reduce((a, b) => a + b, 0) + r.plainFailures.length;
  const rss = samples[samples.length - 1]?.rss ?? 0;
  const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  return `[${elapsed}s] sent ${r.sent}/${options.requests}, replies ${r.replies} (failed ${failed}), lost ${r.lost.length}, kills ${pool.kills}, broker RSS ${mib(rss)}`;
}

/** Everything that makes the run a failure; empty when it passed. */
export function violations(summary: ChaosSummary, rssLimit: number): string[] {
  const found: string[] = [];
  const list = (what: string, items: readonly string[]): void => {
    if (items.length > 0) found.push(`${items.length} ${what}: ${items.slice(0, 5).join("; ")}`);
  };
  if (summary.sent !== summary.requests) found.push(`sent ${summary.sent} of ${summary.requests}`);
  list("lost", summary.lost);
  if (summary.duplicates !== 0) found.push(`${summary.duplicates} duplicates`);
  list("misrouted", summary.misrouted);
  list("unjustified failures", summary.unjustified);
  list("unexpected worker exits", summary.unexpectedWorkerExits);
  if (summary.brokerExit !== undefined) found.push(summary.brokerExit);
  const counters = summary.brokerCounters;
  if (counters !== undefined && (counters.requests !== summary.sent || counters.replies !== summary.replies)) {
    found.push(`broker counted ${counters.requests} requests and ${counters.replies} replies`);
  }
  if (counters !== undefined && counters.queued + counters.running !== 0) found.push("tasks left in the broker");
  if (summary.rssPeak > rssLimit) found.push(`broker peak RSS ${mib(summary.rssPeak)} over ${mib(rssLimit)}`);
  const slow = summary.killWatches.filter((w) => (w.redispatchedAfter ?? Infinity) >= 1000);
  if (slow.length > 0) found.push(`${slow.length} kills not re-dispatched within the attempt timeout`);
  return found;
}

function stats(values: number[]): string {
  if (values.length === 0) return "n/a";
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sorted[sorted.length - 1]} ms (${values.length} kills)`;
}

export function formatSummary(s: ChaosSummary): string {
  const failed = Object.values(s.failures).reduce((a, b) => a + b, 0);
  const measured = s.killWatches.filter((w) => w.held > 0);
  const lines = [
    `chaos summary (${s.seconds.toFixed(1)} s)`,
    `  requests sent      ${s.sent} (of ${s.requests})`,
    `  replies received   ${s.replies} (succeeded ${s.succeeded}, failed ${failed})`,
    `  lost               ${s.lost.length}`,
    `  duplicates         ${s.duplicates}`,
    `  misrouted          ${s.misrouted.length}`,
    `  failures by reason ${Object.entries(s.failures).map(([reason, n]) => `${reason} ${n}`).join(", ") || "none"}`,
    `  unjustified        ${s.unjustified.length}${s.unjustified.length > 0 ? ": " + s.unjustified.slice(0, 5).join("; ") : ""}`,
    `  cancels sent       ${s.cancelledSent}`,
    `  worker kills       ${s.kills} (SIGKILL + restart); unexpected worker exits ${s.unexpectedWorkerExits.length}`,
    `  kill detected      ${stats(s.killWatches.flatMap((w) => (w.detectedAfter === undefined ? [] : [w.detectedAfter])))}`,
    `  re-dispatch time   ${stats(measured.flatMap((w) => (w.redispatchedAfter === undefined ? [] : [w.redispatchedAfter])))}; ` +
      `${measured.reduce((a, w) => a + w.held, 0)} tasks held by killed modern workers (attempt timeout 1000 ms)`,
    `  broker peak RSS    ${mib(s.rssPeak)}; at ${s.rssAt.map((r) => `${r.percent} %: ${mib(r.rss)}`).join(", ")}`,
  ];
  const c = s.brokerCounters;
  if (c !== undefined) {
    lines.push(`  broker counters    requests ${c.requests}, replies ${c.replies}, retried ${c.retried}, late ${c.late}, rejected ${c.rejected}`);
  }
  lines.push(`  broker log lines   ${Object.entries(s.brokerLogLines).map(([event, n]) => `${event} ${n}`).join(", ")}`);
  if (s.eventGaps > 0) lines.push(`  admin EVENT gaps   ${s.eventGaps}`);
  return lines.join("\n");
}
