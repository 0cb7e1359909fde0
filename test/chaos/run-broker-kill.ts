/**
 * `npm run chaos -- --broker-kill`: a durable broker (`ztb broker --data DIR`, a temp dir) SIGKILLed and restarted on
 * the same endpoints and directory every few seconds under load, while misbehaving workers are killed as in the
 * ordinary chaos run. The clients are the two kinds a durable broker makes a promise to (durable-load.ts); what each
 * promise means is checked against the journal itself once the run is over (journal-audit.ts):
 *
 * - lost, routed client (routing id, never resends): a request the journal holds that got no reply. A request that
 *   never reached the journal (travelling at a kill) is owed nothing and is counted apart, as "not journaled".
 * - lost, keyed client (resends with its key on a new socket): a key with no reply after every try, or whose reply
 *   names a task the journal does not hold for that key.
 * - duplicate: a second reply to one routed request, or more than one task in the journal for one request or key.
 * - wrong reply (misrouted): a reply whose correlation id or echoed payload belongs to another request, or a keyed
 *   reply from a task other than the one the journal holds for its key.
 *
 * The schedule of broker kills (the delay before each, drawn from the seed) replays with `--seed`; worker kills follow
 * the ordinary run's schedule. Recovery time per restart: SIGKILL → the new broker listening → the first reply any
 * client receives from it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { snapshotCounters } from "../../broker/src/client/admin-counters";
import type { Counters } from "../../broker/src/protocol/messages";
import { DEFAULT_MISBEHAVIOUR, type Misbehaviour, seededRandom } from "./behaviour";
import { type BrokerEndpoints, type BrokerProcess, spawnBroker } from "./broker-process";
import { DurableLoad } from "./durable-load";
import { auditJournal, type JournalAudit, type JournalTask } from "./journal-audit";
import { WorkerPool, type WorkerSpec } from "./worker-pool";

export interface BrokerKillOptions {
  requests: number;
  /** Clients with a routing id, and keyed clients; each keeps `window` requests in flight. */
  routed: number;
  keyed: number;
  window: number;
  tries: number;
  /** The broker's -T in ms. */
  timeout: number;
  /** Each broker kill comes a random delay in [killMin, killMax] ms after the previous broker started listening. */
  killMin: number;
  killMax: number;
  /** ms between worker kills; 0 = none. */
  workerKillEvery: number;
  workers: readonly WorkerSpec[];
  misbehaviour: Misbehaviour;
  /** --fsync of the durable broker. */
  fsync: "always" | "batch" | "off";
  /**
   * Also kill at commit boundaries: each broker runs with ZTB_FAILPOINT_CRASH_AFTER_COMMITS=N (N drawn from the seed
   * in [commitKillMin, commitKillMax)), so it SIGKILLs itself right after a commit and before that turn's sends — the
   * instant where the journal holds most that nobody outside was told. Whichever comes first, that or the timed kill.
   */
  commitKills: boolean;
  seed: number;
  progress?: (line: string) => void;
  progressEvery: number;
}

/** 4 clients x 30 requests in flight, more than the workers' 41 slots: the broker is never idle when it is killed. */
export const BROKER_KILL_OPTIONS: BrokerKillOptions = {
  requests: 20_000,
  routed: 2,
  keyed: 2,
  window: 30,
  tries: 3,
  timeout: 1000,
  killMin: 2000,
  killMax: 5000,
  workerKillEvery: 2000,
  workers: [
    { kind: "modern", capacity: 16 },
    { kind: "modern", capacity: 16 },
    { kind: "library", capacity: 8 },
    { kind: "legacy", capacity: 1 },
  ],
  misbehaviour: DEFAULT_MISBEHAVIOUR,
  fsync: "batch",
  // Both kinds of kill: SIGKILL from outside at random times, and the broker killing itself right after a commit.
  commitKills: true,
  seed: 2010,
  progressEvery: 3000,
};

/** Routed lanes move on after this long without a reply; keyed requests are resent after this long. */
const STALL_MS = 5000;
const RESEND_MS = 4000;
const MAX_KEYED_TRIES = 30;
/** Once the broker holds nothing more, a reply still owed would come within this long of the last one. */
const QUIET_MS = 2000;

const COMMIT_KILL_MIN = 200;
const COMMIT_KILL_MAX = 2000;

export interface Restart {
  /** "signal": SIGKILLed by the run; "commit": killed itself after a commit (the failpoint). */
  kind: "signal" | "commit";
  /** When the broker died (ms since the epoch). */
  killedAt: number;
  /** Tasks queued and running by the last SNAPSHOT before the kill (undefined: the broker did not answer in time). */
  queued?: number;
  running?: number;
  /** ms from the SIGKILL to the restarted broker's `listening` line. */
  listening: number;
  /** ms from the SIGKILL to the first reply a client received afterwards (undefined: none before the next kill). */
  firstReply?: number;
}

export interface BrokerKillSummary {
  requests: number;
  sent: number;
  replies: number;
  succeeded: number;
  failures: Record<string, number>;
  lostRouted: string[];
  lostKeyed: string[];
  /** Routed requests with no reply that the journal never held (travelling at a kill). */
  notJournaled: number;
  duplicates: string[];
  misrouted: string[];
  unjustified: string[];
  resends: number;
  stalls: number;
  restarts: Restart[];
  workerKills: number;
  unexpectedWorkerExits: string[];
  unexpectedBrokerExits: string[];
  journalTasks: number;
  /** The last broker's counters (admin SNAPSHOT) before it was stopped. */
  counters: Counters | undefined;
  seconds: number;
  seed: number;
}

export async function runBrokerKill(options: BrokerKillOptions): Promise<BrokerKillSummary> {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-chaos-durable-"));
  // A history large enough that the journal keeps every task of the run, so the audit sees every accepted request.
  const args = [
    "--data", dir, "--fsync", options.fsync, "--history", "10000000", "--keep-failed", "10000000",
    "-t", String(options.tries), "-T", String(options.timeout / 1000), "--heartbeat", "500", "--log-level", "warn",
  ];
  const unexpectedBrokerExits: string[] = [];
  const random = seededRandom(options.seed);
  let killing = false;
  /** Starts a broker (with the commit failpoint when asked) and records any exit that neither we nor it planned. */
  const start = async (at: BrokerEndpoints | undefined, failpoint: boolean): Promise<BrokerProcess> => {
    const commits = COMMIT_KILL_MIN + Math.floor(random() * (COMMIT_KILL_MAX - COMMIT_KILL_MIN));
    const b = await spawnBroker(args, at, failpoint ? { env: { ZTB_FAILPOINT_CRASH_AFTER_COMMITS: String(commits) } } : {});
    void b.exited.then((code) => {
      if (!killing && !(failpoint && code === "SIGKILL")) unexpectedBrokerExits.push(`broker exited (${String(code)}): ${b.recent.slice(-3).join(" | ")}`);
    });
    return b;
  };
  let broker = await start(undefined, options.commitKills);
  const endpoints = broker.endpoints;
  const restarts: Restart[] = [];
  let awaiting: { restart: Restart; killedAt: number } | undefined;
  const load = new DurableLoad({
    endpoint: endpoints.clients,
    requests: options.requests,
    routed: options.routed,
    keyed: options.keyed,
    window: options.window,
    tries: options.tries,
    stallAfter: STALL_MS,
    resendAfter: RESEND_MS,
    maxTries: MAX_KEYED_TRIES,
    seed: options.seed,
    onReply: () => {
      lastReplyAt = Date.now();
      if (awaiting === undefined) return;
      awaiting.restart.firstReply = lastReplyAt - awaiting.killedAt;
      awaiting = undefined;
    },
  });
  let lastReplyAt = Date.now();
  const pool = new WorkerPool(
    { workers: endpoints.workers, answers: endpoints.answers, timeout: options.timeout, misbehaviour: options.misbehaviour, seed: options.seed, brokerRestarts: true },
    options.workers,
  );
  const timers: NodeJS.Timeout[] = [];
  let running = true;
  let wake: (() => void) | undefined;

  /** Kills the broker (unless it killed itself) and starts the next one on the same endpoints and directory. */
  const restartBroker = async (kind: Restart["kind"], failpoint: boolean): Promise<void> => {
    const before = kind === "signal" ? await snapshotCounters(endpoints.admin, 500) : undefined;
    const restart: Restart = { kind, killedAt: 0, listening: 0 };
    if (before !== undefined) {
      restart.queued = before.queued;
      restart.running = before.running;
    }
    killing = true;
    const killedAt = Date.now();
    restart.killedAt = killedAt;
    broker.child.kill("SIGKILL");
    await broker.exited;
    awaiting = undefined;
    broker = await start(endpoints, failpoint);
    killing = false;
    restart.listening = Date.now() - killedAt;
    restarts.push(restart);
    awaiting = { restart, killedAt };
    void Promise.all(pool.restartLegacy());
  };

  const killer = async (): Promise<void> => {
    while (running) {
      const delay = options.killMin + Math.floor(random() * (options.killMax - options.killMin));
      const current = broker;
      const selfKilled = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), delay);
        wake = () => {
          clearTimeout(timer);
          resolve(false);
        };
        void current.exited.then(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!running && !options.commitKills) return;
      // The end of a run with commit kills: one last restart without the failpoint, so the end is not cut short.
      await restartBroker(selfKilled ? "commit" : "signal", running && options.commitKills);
    }
  };

  try {
    await pool.start();
    if (options.workerKillEvery > 0) {
      let victim = 0;
      timers.push(setInterval(() => pool.kill(victim++ % pool.slots.length), options.workerKillEvery));
    }
    if (options.progress !== undefined) {
      const progress = options.progress;
      timers.push(setInterval(() => progress(progressLine(started, options, load, restarts, pool)), options.progressEvery));
    }
    const kills = killer();
    await load.run();
    running = false;
    wake?.();
    await kills;
    for (const timer of timers.splice(0)) clearInterval(timer);
    // The end: the broker holds no live task, and no reply has come for a while (a reply still owed would come at
    // once). What is still unanswered then is judged against the journal.
    await until(async () => {
      const c = await snapshotCounters(endpoints.admin, 1000);
      return c !== undefined && c.queued + c.running === 0;
    }, 60_000);
    await until(() => load.outstandingCount === 0 || Date.now() - lastReplyAt >= QUIET_MS, 60_000);
    const finalCounters = await snapshotCounters(endpoints.admin, 1000);
    killing = true;
    load.close();
    await pool.stop();
    await broker.stop(0);
    const audit = auditJournal(dir);
    return summarise(options, load, audit, {
      restarts,
      workerKills: pool.kills,
      unexpectedWorkerExits: pool.unexpectedExits,
      unexpectedBrokerExits,
      counters: finalCounters,
      seconds: (Date.now() - started) / 1000,
    });
  } finally {
    running = false;
    wake?.();
    for (const timer of timers) clearInterval(timer);
    load.close();
    await pool.stop();
    killing = true;
    await broker.stop(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function summarise(
  options: BrokerKillOptions,
  load: DurableLoad,
  audit: JournalAudit,
  run: Pick<BrokerKillSummary, "restarts" | "workerKills" | "unexpectedWorkerExits" | "unexpectedBrokerExits" | "counters" | "seconds">,
): BrokerKillSummary {
  const lostRouted: string[] = [];
  const lostKeyed: string[] = [];
  const duplicates: string[] = [];
  const misrouted = [...load.result.misrouted];
  let notJournaled = 0;
  for (let i = 0; i < load.duplicateReplies(); i++) duplicates.push("a second reply to a routed request");
  for (const [tag, outcome] of load.routed) {
    const tasks = audit.byTag.get(tag) ?? [];
    if (tasks.length > 1) duplicates.push(`${tag}: ${tasks.length} tasks in the journal (${tasks.map((t) => t.id).join(", ")})`);
    if (outcome.replies > 0) continue;
    const task = tasks[0];
    if (task === undefined) notJournaled++;
    else lostRouted.push(`${tag}: task ${task.id} ${task.state} after ${task.attempts} attempt(s)${whenFinished(task, run.restarts)}, never answered`);
  }
  for (const [tag, outcome] of load.keyed) {
    const tasks = (audit.byTag.get(tag) ?? []).filter((task) => task.key === tag);
    if (tasks.length > 1) duplicates.push(`key ${tag}: ${tasks.length} tasks in the journal (${tasks.map((t) => t.id).join(", ")})`);
    const reply = outcome.reply;
    if (reply === undefined) {
      lostKeyed.push(`key ${tag}: no reply after ${outcome.tries} tries${outcome.gaveUp ? "" : " (the run ended)"}`);
      continue;
    }
    const task = tasks[0];
    if (task === undefined) lostKeyed.push(`key ${tag}: answered by task ${reply.task ?? "?"}, which the journal does not hold`);
    else if (reply.task !== task.id) misrouted.push(`key ${tag}: answered by task ${reply.task ?? "?"}, the journal's task is ${task.id}`);
  }
  const r = load.result;
  return {
    requests: options.requests,
    sent: r.sent,
    replies: r.replies,
    succeeded: r.succeeded,
    failures: Object.fromEntries([...r.failures].sort((a, b) => b[1] - a[1])),
    lostRouted,
    lostKeyed,
    notJournaled,
    duplicates,
    misrouted,
    unjustified: r.unjustified,
    resends: r.resends,
    stalls: r.stalls,
    journalTasks: audit.tasks,
    seed: options.seed,
    ...run,
  };
}

/** Where a task's end falls among the kills: a reply lost to a kill was finished just before it. */
function whenFinished(task: JournalTask, restarts: readonly Restart[]): string {
  if (task.finishedAt === null) return "";
  const finishedAt = task.finishedAt;
  const next = restarts.findIndex((r) => r.killedAt >= finishedAt);
  const kill = restarts[next];
  if (kill === undefined) return `, finished ${Date.now() - finishedAt} ms before the audit, after the last kill`;
  return `, finished ${kill.killedAt - finishedAt} ms before broker kill ${next + 1}`;
}


async function until(check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !(await check())) await new Promise((resolve) => setTimeout(resolve, 100));
}

function progressLine(started: number, options: BrokerKillOptions, load: DurableLoad, restarts: Restart[], pool: WorkerPool): string {
  const r = load.result;
  const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  return `[${elapsed}s] sent ${r.sent}/${options.requests}, replies ${r.replies}, routed waiting ${load.pendingRouted().length}, keyed resends ${r.resends}, broker kills ${restarts.length}, worker kills ${pool.kills}`;
}

/** Everything that makes the run a failure; empty when it passed. */
export function brokerKillViolations(s: BrokerKillSummary): string[] {
  const found: string[] = [];
  const list = (what: string, items: readonly string[]): void => {
    if (items.length > 0) found.push(`${items.length} ${what}: ${items.slice(0, 5).join("; ")}`);
  };
  if (s.sent !== s.requests) found.push(`sent ${s.sent} of ${s.requests}`);
  list("lost (routed: journaled, never answered)", s.lostRouted);
  list("lost (keyed)", s.lostKeyed);
  list("duplicates", s.duplicates);
  list("wrong replies", s.misrouted);
  list("unjustified failures", s.unjustified);
  list("unexpected worker exits", s.unexpectedWorkerExits);
  list("unexpected broker exits", s.unexpectedBrokerExits);
  if (s.counters !== undefined && s.counters.queued + s.counters.running !== 0) found.push("tasks left in the broker");
  return found;
}

function stats(values: number[], count: number): string {
  if (values.length === 0) return "n/a";
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `median ${at(0.5)} ms, max ${sorted[sorted.length - 1]} ms (${values.length} of ${count} restarts)`;
}

export function formatBrokerKillSummary(s: BrokerKillSummary): string {
  const failed = Object.values(s.failures).reduce((a, b) => a + b, 0);
  const lines = [
    `chaos --broker-kill summary (${s.seconds.toFixed(1)} s, seed ${s.seed})`,
    `  requests sent      ${s.sent} (of ${s.requests}); replies ${s.replies} (succeeded ${s.succeeded}, failed ${failed})`,
    `  lost               ${s.lostRouted.length + s.lostKeyed.length} (routed ${s.lostRouted.length}, keyed ${s.lostKeyed.length})`,
    `                     # routed (routing id, no resend): a request the journal holds that got no reply`,
    `                     # keyed (resend with the key on a new socket): a key with no reply, or answered by a task the journal does not hold for it`,
    `  duplicates         ${s.duplicates.length}`,
    `                     # a second reply to a routed request, or more than one task in the journal for one request or key`,
    `  wrong replies      ${s.misrouted.length}`,
    `                     # another request's correlation id or payload, or a keyed reply from a task other than the journal's for the key`,
    `  not journaled      ${s.notJournaled} routed requests travelling at a kill, never accepted: owed no reply (routed lanes moved on ${s.stalls} times)`,
    `  keyed resends      ${s.resends}`,
    `  failures by reason ${Object.entries(s.failures).map(([reason, n]) => `${reason} ${n}`).join(", ") || "none"}`,
    `  unjustified        ${s.unjustified.length}${s.unjustified.length > 0 ? ": " + s.unjustified.slice(0, 5).join("; ") : ""}`,
    `  broker kills       ${s.restarts.length} (SIGKILL + restart on the same --data and endpoints; ${s.restarts.filter((r) => r.kind === "commit").length} by the broker itself right after a commit); unexpected broker exits ${s.unexpectedBrokerExits.length}`,
    `  held at the kill   ${s.restarts.map((r) => (r.queued === undefined ? "?" : `${r.queued}q/${r.running ?? 0}r`)).join(", ") || "n/a"} (queued/running by the last SNAPSHOT before each kill; ? = no answer within 500 ms)`,
    `  kill → listening   ${stats(s.restarts.map((r) => r.listening), s.restarts.length)}`,
    `  kill → 1st reply   ${stats(s.restarts.flatMap((r) => (r.firstReply === undefined ? [] : [r.firstReply])), s.restarts.length)}`,
    `  per restart        ${s.restarts.map((r) => `${r.listening}/${r.firstReply ?? "-"}`).join(", ") || "n/a"} (ms to listening / to the first reply)`,
    `  worker kills       ${s.workerKills} (SIGKILL + restart); unexpected worker exits ${s.unexpectedWorkerExits.length}`,
    `  journal            ${s.journalTasks} tasks at the end`,
  ];
  const c = s.counters;
  if (c !== undefined) {
    lines.push(`  broker counters    requests ${c.requests}, replies ${c.replies}, deduplicated ${c.deduplicated ?? 0}, retried ${c.retried}, late ${c.late}, rejected ${c.rejected}`);
  }
  return lines.join("\n");
}
