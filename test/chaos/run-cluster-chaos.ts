/**
 * `npm run chaos -- --cluster`: cluster mode (issue 11) under faults. A 3-node nats-server cluster, two `ztb broker
 * --cluster … --replicas 3` child processes (the real CLI), worker processes on both brokers, keyed clients homed on
 * both (cluster-load.ts: they fail over to the other broker with the same key). Under load, one fault at a time:
 *
 * - broker: SIGKILL one broker, restart it on the same endpoints and broker id after a pause. Its clients resend their
 *   pending keys to the other broker; its leased tasks come back to the other broker after one --lease.
 * - nats: SIGKILL one nats-server node of three, restart it on its store after a pause, wait for the cluster.
 * - worker: SIGKILL one worker process and start it again.
 *
 * The schedule is drawn from the seed: which faults, in which order, which victim, how long it stays down, and at
 * which request count each starts (a position in the load, not a time, so a slow machine sees the same faults under
 * load). `--seed N` replays it. Verdict, from the clients' side: every key answered exactly once (lost = 0, no second
 * reply to one request, no wrong payload, no failure these faults cannot explain). Executions per key are counted from
 * the workers' own lines: at-least-once execution is allowed, and a key that ran more than once is reported with the
 * fault that happened between its runs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { snapshotCounters } from "../../broker/src/client/admin-counters";
import type { Counters } from "../../broker/src/protocol/messages";
import { NatsCluster } from "../cluster/nats-harness";
import { seededRandom } from "./behaviour";
import { type BrokerProcess, spawnBroker } from "./broker-process";
import { ClusterLoad } from "./cluster-load";

export type FaultKind = "broker" | "nats" | "worker";

export interface ClusterChaosOptions {
  requests: number;
  brokers: number;
  natsNodes: number;
  /** Worker processes per broker, and each one's capacity. */
  workersPerBroker: number;
  capacity: number;
  clientsPerBroker: number;
  window: number;
  tries: number;
  /** The brokers' -T and --lease, in ms. */
  timeout: number;
  lease: number;
  /** How many faults of each kind the schedule holds. */
  faults: Record<FaultKind, number>;
  /** A killed broker or nats-server node stays down for a random time in [downMin, downMax] ms. */
  downMin: number;
  downMax: number;
  /** Client-side deadline before a key is resent to another broker. */
  resendAfter: number;
  seed: number;
  progress?: (line: string) => void;
  progressEvery: number;
}

export const CLUSTER_CHAOS_OPTIONS: ClusterChaosOptions = {
  requests: 20_000,
  brokers: 2,
  natsNodes: 3,
  workersPerBroker: 2,
  capacity: 8,
  clientsPerBroker: 2,
  window: 16,
  tries: 5,
  timeout: 2000,
  lease: 2000,
  faults: { broker: 4, nats: 4, worker: 4 },
  downMin: 200,
  downMax: 1500,
  resendAfter: 6000,
  seed: 1111,
  progressEvery: 3000,
};

/** A key with no answer this long after it was first sent is lost (refusals while NATS recovers do not count as tries). */
const GIVE_UP_MS = 120_000;
const REPLICAS_TIMEOUT = 60_000;
/**
 * The load may run this many keys past a scheduled fault that has not started (the previous one is still restarting):
 * then it waits. So every fault of the schedule happens, and with requests in flight, however slow the machine.
 */
const FAULT_SLACK = 200;
const SETTLE_SLACK = 1000;
/** After the last answer, executions still on their way (a redelivered task whose first run answered) are awaited this long. */
const QUIET_MS = 3000;

export interface Fault {
  kind: FaultKind;
  victim: number;
  /** The fault starts once this many requests were sent. */
  atRequest: number;
  downMs: number;
}

export interface FaultRecord extends Fault {
  startedAt: number;
  /** When the victim was back (broker listening, nats cluster ready, worker registered). */
  backAt: number;
  /** ms from the kill to the back. */
  recovery: number;
}

export interface ClusterChaosSummary {
  requests: number;
  sent: number;
  replies: number;
  succeeded: number;
  duplicateFlagged: number;
  failures: Record<string, number>;
  lost: string[];
  duplicates: string[];
  wrong: string[];
  unjustified: string[];
  resendsAfterDeadline: number;
  resendsAfterKill: number;
  refused: number;
  lateReplies: number;
  /** Keys by how often they ran: 0, 1, 2, 3+. */
  executions: { never: number; once: number; twice: number; more: number; total: number };
  /** Keys that ran more than once, by the faults between their first and last run. */
  reruns: Record<string, number>;
  faults: FaultRecord[];
  unexpectedExits: string[];
  /** Restarts of a broker that exited 2 at start (NATS not ready after a node kill) and were started again. */
  startRefusals: string[];
  /** Node restarts after which the stream replicas were not all current within REPLICAS_TIMEOUT. */
  natsNotCurrent: string[];
  /** Where the brokers' logs were kept (failed runs only). */
  logDir?: string;
  /** Lane time spent waiting for a scheduled fault to start, in ms. */
  heldBackMs: number;
  counters: (Counters | undefined)[];
  seconds: number;
  seed: number;
}

/** The seeded schedule: the faults in a shuffled order, each starting at a request count between 5 % and 90 %. */
export function faultSchedule(options: ClusterChaosOptions): Fault[] {
  const random = seededRandom(options.seed);
  const kinds: FaultKind[] = [];
  for (const kind of ["broker", "nats", "worker"] as const) for (let i = 0; i < options.faults[kind]; i++) kinds.push(kind);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j] as FaultKind, kinds[i] as FaultKind];
  }
  const positions = kinds.map(() => Math.floor(options.requests * (0.05 + 0.85 * random()))).sort((a, b) => a - b);
  const victims: Record<FaultKind, number> = { broker: options.brokers, nats: options.natsNodes, worker: options.brokers * options.workersPerBroker };
  return kinds.map((kind, i) => ({
    kind,
    victim: Math.floor(random() * victims[kind]),
    atRequest: positions[i] ?? 0,
    downMs: options.downMin + Math.floor(random() * (options.downMax - options.downMin)),
  }));
}

const WORKER_SCRIPT = join(__dirname, "cluster-worker.js");

/** Broker and worker processes of a run, SIGKILLed if this process exits first (an interrupted run leaves none). */
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});
function own(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** A worker process slot: restarted after each kill; every execution line lands in `executions`. */
class WorkerSlot {
  child: ChildProcess | undefined;
  private incarnation = 0;
  private killed = new WeakSet<ChildProcess>();

  constructor(
    private readonly endpoint: string,
    private readonly name: string,
    private readonly capacity: number,
    private readonly onExecution: (tag: string) => void,
    private readonly onUnexpectedExit: (line: string) => void,
  ) {}

  /** Starts the next incarnation; resolves once it is registered with its broker. */
  start(): Promise<void> {
    this.incarnation++;
    const name = `${this.name}.${this.incarnation}`;
    const child = spawn(process.execPath, [WORKER_SCRIPT, this.endpoint, name, String(this.capacity)], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    own(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.on("exit", (code, signal) => {
      if (!this.killed.has(child)) this.onUnexpectedExit(`${name} exited (${code ?? signal}): ${stderr.trim()}`);
    });
    return new Promise((resolve) => {
      const lines = createInterface({ input: child.stdout ?? process.stdin });
      lines.on("line", (line) => {
        if (line === "ready") resolve();
        else if (line.startsWith("x ")) this.onExecution(line.slice(2));
      });
      child.once("exit", () => resolve());
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    this.killed.add(child);
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await gone;
  }
}

export async function runClusterChaos(options: ClusterChaosOptions): Promise<ClusterChaosSummary> {
  const started = Date.now();
  const schedule = faultSchedule(options);
  const unexpectedExits: string[] = [];
  const executions = new Map<string, number[]>();
  let lastExecution = Date.now();
  const onExecution = (tag: string): void => {
    lastExecution = Date.now();
    const list = executions.get(tag) ?? [];
    list.push(lastExecution);
    executions.set(tag, list);
  };
  const logDir = mkdtempSync(join(tmpdir(), `ztb-chaos-cluster-${options.seed}-`));
  const startRefusals: string[] = [];
  const natsNotCurrent: string[] = [];
  const nats = await NatsCluster.start({ nodes: options.natsNodes });
  const clusterName = `chaos${options.seed}`;
  const brokers: BrokerProcess[] = [];
  const stopping = new Set<BrokerProcess>();
  const args = (id: number): string[] => [
    "--cluster", nats.urls.join(","), "--cluster-name", clusterName, "--broker-id", `b${id}`,
    "--replicas", String(Math.min(3, options.natsNodes)), "--lease", `${options.lease / 1000}s`,
    "-t", String(options.tries), "-T", String(options.timeout / 1000), "--heartbeat", "500", "--log-level", "warn",
  ];
  const startBroker = async (id: number, at?: BrokerProcess["endpoints"]): Promise<BrokerProcess> => {
    const broker = await spawnWithRetries(args(id), at, (why) => startRefusals.push(`b${id}: ${why}`));
    own(broker.child);
    broker.child.stderr?.on("data", (chunk: Buffer) => appendFileSync(join(logDir, `b${id}.log`), chunk));
    void broker.exited.then((code) => {
      if (!stopping.has(broker)) unexpectedExits.push(`broker b${id} exited (${String(code)}): ${broker.recent.slice(-3).join(" | ")}`);
    });
    brokers[id] = broker;
    return broker;
  };
  const workers: WorkerSlot[] = [];
  let load: ClusterLoad | undefined;
  const faults: FaultRecord[] = [];
  const timers: NodeJS.Timeout[] = [];
  /** A fault is under way (schedule[faults.length]). */
  let injecting = false;
  let injectorFailed = false;
  /** Waiting for a restarted nats-server node's replicas to be current. */
  let settling = false;
  let keepLogs = true;
  try {
    for (let b = 0; b < options.brokers; b++) await startBroker(b);
    for (let b = 0; b < options.brokers; b++) {
      for (let w = 0; w < options.workersPerBroker; w++) {
        const endpoint = brokers[b]?.endpoints.workers ?? "";
        workers.push(new WorkerSlot(endpoint, `w${b}-${w}`, options.capacity, onExecution, (line) => unexpectedExits.push(line)));
      }
    }
    await Promise.all(workers.map((slot) => slot.start()));
    const activeLoad = new ClusterLoad({
      endpoints: brokers.map((b) => b.endpoints.clients),
      requests: options.requests,
      clientsPerBroker: options.clientsPerBroker,
      window: options.window,
      tries: options.tries,
      resendAfter: options.resendAfter,
      giveUpAfter: GIVE_UP_MS,
      seed: options.seed,
      maySend: (sent) => {
        // The first fault not started yet (the one under way, if any, is schedule[faults.length]).
        const next = schedule[faults.length + (injecting ? 1 : 0)];
        return injectorFailed || next === undefined || sent < next.atRequest + FAULT_SLACK + (settling ? SETTLE_SLACK : 0);
      },
    });
    load = activeLoad;

    const inject = async (fault: Fault): Promise<void> => {
      injecting = true;
      const startedAt = Date.now();
      if (fault.kind === "broker") {
        const victim = brokers[fault.victim];
        if (victim === undefined) throw new Error(`no broker ${fault.victim}`);
        stopping.add(victim);
        victim.child.kill("SIGKILL");
        await victim.exited;
        activeLoad.brokerDown(fault.victim);
        await sleep(fault.downMs);
        await startBroker(fault.victim, victim.endpoints);
        activeLoad.brokerUp(fault.victim);
      } else if (fault.kind === "nats") {
        await nats.kill(fault.victim);
        await sleep(fault.downMs);
        await nats.restart(fault.victim);
        // One node at a time means the next kill finds three current replicas: killing another node while the restarted
        // one still catches up would take the quorum of the R3 stream away (a different fault).
        // Replicas catch up with activity: the load may run on meanwhile (SETTLE_SLACK keys further).
        settling = true;
        if (!(await replicasCurrent(nats, clusterName, REPLICAS_TIMEOUT))) natsNotCurrent.push(`after nats#${fault.victim}`);
        settling = false;
      } else {
        const slot = workers[fault.victim];
        if (slot === undefined) throw new Error(`no worker ${fault.victim}`);
        await slot.kill();
        await slot.start();
      }
      const backAt = Date.now();
      faults.push({ ...fault, startedAt, backAt, recovery: backAt - startedAt });
      injecting = false;
    };
    let loadDone = false;
    const injector = (async () => {
      for (const fault of schedule) {
        while (!loadDone && activeLoad.result.sent < fault.atRequest) await sleep(20);
        if (loadDone) return;
        await inject(fault);
      }
    })().catch((error: unknown) => {
      injectorFailed = true;
      unexpectedExits.push(`fault injection failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    if (options.progress !== undefined) {
      const progress = options.progress;
      timers.push(setInterval(() => progress(progressLine(started, options, activeLoad, faults, schedule.length, executions)), options.progressEvery));
    }
    await activeLoad.run();
    loadDone = true;
    await injector;
    // Executions still on their way: a task whose broker died after it answered is run again one lease later.
    await until(() => Date.now() - lastExecution >= QUIET_MS, 30_000);
    for (const timer of timers.splice(0)) clearInterval(timer);
    const counters = await Promise.all(brokers.map((b) => snapshotCounters(b.endpoints.admin, 2000)));
    const summary = summarise(options, activeLoad, executions, faults, unexpectedExits, counters, (Date.now() - started) / 1000);
    summary.startRefusals = startRefusals;
    summary.natsNotCurrent = natsNotCurrent;
    // The brokers' logs stay for a failed run only (removed below, once the brokers are gone).
    keepLogs = clusterChaosViolations(summary).length > 0;
    if (keepLogs) summary.logDir = logDir;
    return summary;
  } finally {
    for (const timer of timers) clearInterval(timer);
    load?.close();
    for (const broker of brokers) stopping.add(broker);
    await Promise.all(workers.map((slot) => slot.kill()));
    await Promise.all(brokers.map((broker) => broker.stop(0)));
    await nats.stop();
    if (!keepLogs) rmSync(logDir, { recursive: true, force: true });
  }
}

function summarise(
  options: ClusterChaosOptions,
  load: ClusterLoad,
  executions: Map<string, number[]>,
  faults: FaultRecord[],
  unexpectedExits: string[],
  counters: (Counters | undefined)[],
  seconds: number,
): ClusterChaosSummary {
  const r = load.result;
  const lost: string[] = [];
  const wrong = [...r.wrong];
  const runs = { never: 0, once: 0, twice: 0, more: 0, total: 0 };
  const reruns = new Map<string, number>();
  for (const [tag, outcome] of load.keys) {
    const times = executions.get(tag) ?? [];
    runs.total += times.length;
    if (times.length === 0) runs.never++;
    else if (times.length === 1) runs.once++;
    else if (times.length === 2) runs.twice++;
    else runs.more++;
    if (times.length > 1) {
      const first = times[0] ?? 0;
      const last = times[times.length - 1] ?? 0;
      const between = [...new Set(faults.filter((f) => f.startedAt <= last && f.backAt >= first - options.lease).map((f) => f.kind))].sort();
      const cause = between.length === 0 ? "no fault near its runs" : `${between.join("+")} kill`;
      reruns.set(cause, (reruns.get(cause) ?? 0) + 1);
    }
    if (outcome.reply === undefined) {
      const refusal = outcome.lastRefusal === undefined ? "" : `, last refused by ${outcome.lastRefusal}`;
      lost.push(`key ${tag}: no answer after ${outcome.tries} tries${outcome.gaveUp ? "" : " (the run ended)"}${refusal}`);
      continue;
    }
    if (outcome.reply.status === "succeeded" && times.length === 0) wrong.push(`key ${tag}: answered succeeded, but no worker ever ran it`);
  }
  for (const tag of executions.keys()) if (!load.keys.has(tag)) wrong.push(`a worker ran ${tag}, which no client sent`);
  const totals = load.socketTotals();
  const duplicates: string[] = [];
  if (totals.duplicates > 0) duplicates.push(`${totals.duplicates} second replies to a request already answered`);
  if (totals.unmatched > 0) duplicates.push(`${totals.unmatched} replies to no request of that socket`);
  return {
    requests: options.requests,
    sent: r.sent,
    replies: r.replies,
    succeeded: r.succeeded,
    duplicateFlagged: r.duplicateFlagged,
    failures: Object.fromEntries([...r.failures].sort((a, b) => b[1] - a[1])),
    lost,
    duplicates,
    wrong,
    unjustified: r.unjustified,
    resendsAfterDeadline: r.resendsAfterDeadline,
    resendsAfterKill: r.resendsAfterKill,
    refused: r.refused,
    lateReplies: totals.late,
    executions: runs,
    reruns: Object.fromEntries(reruns),
    faults,
    unexpectedExits,
    heldBackMs: load.heldBack * 10,
    startRefusals: [],
    natsNotCurrent: [],
    counters,
    seconds,
    seed: options.seed,
  };
}

/** Everything that makes the run a failure; empty when it passed. */
export function clusterChaosViolations(s: ClusterChaosSummary): string[] {
  const found: string[] = [];
  const list = (what: string, items: readonly string[]): void => {
    if (items.length > 0) found.push(`${items.length} ${what}: ${items.slice(0, 5).join("; ")}`);
  };
  if (s.sent !== s.requests) found.push(`sent ${s.sent} of ${s.requests}`);
  if (s.replies !== s.sent) found.push(`${s.replies} answers for ${s.sent} keys`);
  list("lost", s.lost);
  list("duplicate replies", s.duplicates);
  list("wrong replies", s.wrong);
  list("unjustified failures", s.unjustified);
  list("unexpected exits", s.unexpectedExits);
  return found;
}

export function formatClusterChaosSummary(s: ClusterChaosSummary): string {
  const failed = Object.values(s.failures).reduce((a, b) => a + b, 0);
  const kinds = (kind: FaultKind): FaultRecord[] => s.faults.filter((f) => f.kind === kind);
  const recovery = (kind: FaultKind): string => {
    const list = kinds(kind).map((f) => f.recovery);
    return list.length === 0 ? "-" : `${list.join("/")} ms`;
  };
  const e = s.executions;
  const lines = [
    `chaos --cluster summary (${s.seconds.toFixed(1)} s, seed ${s.seed})`,
    `  keys sent          ${s.sent} (of ${s.requests}); answered ${s.replies} (succeeded ${s.succeeded}, failed ${failed}); answered from a running or kept task (duplicate: true) ${s.duplicateFlagged}`,
    `  lost               ${s.lost.length}   # a key with no answer within 2 minutes of its first try, on any broker`,
    `  duplicate replies  ${s.duplicates.length}   # a second reply to one request id, or a reply to no request`,
    `  wrong replies      ${s.wrong.length}   # another request's id or payload, or "succeeded" with no execution seen`,
    `  failures by reason ${Object.entries(s.failures).map(([reason, n]) => `${reason} ${n}`).join(", ") || "none"}; unjustified ${s.unjustified.length}`,
    `  failover           ${s.resendsAfterKill} keys resent after their broker was killed, ${s.resendsAfterDeadline} after a ${"client deadline"}, ${s.refused} refused "unavailable" and resent; late replies to abandoned tries ${s.lateReplies}`,
    `  executions         ${e.total} for ${s.sent} keys: once ${e.once}, twice ${e.twice}, 3+ ${e.more}, never ${e.never} (failed without running, or answered from a kept result)`,
    `  ran more than once ${Object.entries(s.reruns).map(([cause, n]) => `${n} around a ${cause}`).join(", ") || "none"}`,
    `                     # at least once: a task whose result was sent but whose ack was lost to a broker or NATS kill runs again after one lease; a killed worker's tasks run again at once`,
    `  faults             broker ${kinds("broker").length} (kill → listening again ${recovery("broker")}), nats ${kinds("nats").length} (kill → cluster ready ${recovery("nats")}), worker ${kinds("worker").length}`,
    `  schedule           ${s.faults.map((f) => `${f.kind}#${f.victim}@${f.atRequest}`).join(" ") || "none"}`,
    `  held back          ${(s.heldBackMs / 1000).toFixed(1)} s of lane time waiting for a scheduled fault to start (the load may run ${FAULT_SLACK} keys past a fault's position)`,
    `  unexpected exits   ${s.unexpectedExits.length}`,
    `  nats replicas      ${s.natsNotCurrent.length === 0 ? "every restarted node's stream replicas were current before the next fault" : `not current within ${REPLICAS_TIMEOUT / 1000} s ${s.natsNotCurrent.join(", ")}`}`,
    `  broker starts      ${s.startRefusals.length} refused at start and retried${s.startRefusals.length > 0 ? `: ${s.startRefusals.slice(0, 3).join("; ")}` : ""}`,
  ];
  if (s.logDir !== undefined) lines.push(`  broker logs        ${s.logDir}`);
  s.counters.forEach((c, i) => {
    if (c !== undefined) lines.push(`  broker b${i} counters requests ${c.requests}, replies ${c.replies}, deduplicated ${c.deduplicated ?? 0}, retried ${c.retried}, late ${c.late}, rejected ${c.rejected}`);
  });
  return lines.join("\n");
}

function progressLine(started: number, options: ClusterChaosOptions, load: ClusterLoad, faults: FaultRecord[], scheduled: number, executions: Map<string, number[]>): string {
  const r = load.result;
  const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  const count = (kind: FaultKind): number => faults.filter((f) => f.kind === kind).length;
  return `[${elapsed}s] sent ${r.sent}/${options.requests}, answered ${r.replies}, waiting ${load.waiting}, resent after kill ${r.resendsAfterKill} / deadline ${r.resendsAfterDeadline}, refused ${r.refused}, faults ${faults.length}/${scheduled} (broker ${count("broker")}, nats ${count("nats")}, worker ${count("worker")}), keys run ${executions.size}`;
}

interface ReplicaView {
  name: string;
  cluster?: { leader?: string; replicas?: { name: string; current: boolean }[] };
}
interface Jsz {
  account_details?: { stream_detail?: ReplicaView[] }[];
}

/**
 * Waits until every stream of the cluster `name` (the task stream, the results bucket) has a leader whose own view
 * lists all its replicas current (only the leader's view of a replica is reliable).
 */
async function replicasCurrent(nats: NatsCluster, name: string, timeout: number): Promise<boolean> {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const assets = new Set<string>();
    const settled = new Set<string>();
    for (const node of nats.nodes) {
      if (!node.running) return false;
      const jsz = (await node.monitor("/jsz?accounts=true&streams=true")) as Jsz | undefined;
      const views: ReplicaView[] = [];
      for (const account of jsz?.account_details ?? []) {
        for (const stream of account.stream_detail ?? []) {
          if (!stream.name.includes(name)) continue;
          // Streams only: on 2.9 an idle consumer's replica stays "not current" until the consumer next changes.
          views.push(stream);
        }
      }
      for (const view of views) {
        assets.add(view.name);
        const replicas = view.cluster?.replicas ?? [];
        if (view.cluster?.leader === node.name && replicas.length === nats.nodes.length - 1 && replicas.every((r) => r.current)) settled.add(view.name);
      }
    }
    if (assets.size > 0 && settled.size === assets.size) return true;
    await sleep(200);
  }
  return false;
}

/** Attempts to start a broker (a start that meets NATS re-electing leaders exits 2, as an operator's service would be restarted). */
const START_ATTEMPTS = 10;

async function spawnWithRetries(args: string[], at: BrokerProcess["endpoints"] | undefined, refused: (why: string) => void): Promise<BrokerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnBroker(args, at);
    } catch (error) {
      const why = error instanceof Error ? (error.message.split("\n").find((line) => line.startsWith("ztb broker:")) ?? error.message) : String(error);
      if (attempt === START_ATTEMPTS) throw error;
      refused(why);
      await sleep(500);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !check()) await sleep(100);
}
