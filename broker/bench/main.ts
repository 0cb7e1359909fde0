/**
 * `npm run bench`: the broker's throughput, latency, per-operation cost and memory, each against a baseline measured
 * in the same run on the same machine (a benchmark that prints figures and ratios, never a timed test).
 *
 * Prints one JSON line per case, then a readable table and the targets of issues #6 and #10 as ratios.
 * Options: --quick (shorter runs, fewer cases, a smaller recovery fill), --seconds N (measuring time per throughput case),
 * --durability / --cluster (only those rows, each with its in-memory baseline).
 */
import type { ChildProcess } from "node:child_process";
import { measureBrokerMemory } from "./broker-memory";
import { type ClusterFigures, clusterLines, measureCluster } from "./cluster";
import { type CaseResult, type DurabilityFigures, durabilityNotes, durabilityTargets, type Journal, MAIN_CASE, measureDurability } from "./durability";
import { medianCoreCost } from "./core-cost";
import { type CeilingResult, measureEchoCeiling, measureNativeEchoCeiling } from "./echo-ceiling";
import { buildNativePeers, runNativePipeline, startNativeWorkers } from "./native-peers";
import { runPipeline } from "./pipeline-client";
import { type BrokerEndpoints, cpuSeconds, startBroker, startRelay, startWorkers, stop } from "./processes";
import { prototypePath, startPrototype } from "./prototype";
import { measureRecovery, type RecoveryFigures } from "./recovery";
import { measureShellCost } from "./shell-cost";
import { round } from "./stats";

const WINDOW = 256;
const SMALL = 16;
const LARGE = 64 * 1024;

interface Row {
  case: string;
  [key: string]: string | number;
}

const rows: Row[] = [];

function emit(row: Row): void {
  rows.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

interface BrokerCase {
  mode: "modern" | "legacy";
  workers: number;
  capacity: number;
  payload: number;
  seconds: number;
  broker?: "ztb" | "prototype" | "relay";
  /** The native peers' binary, or undefined for the zeromq.js peers. */
  native?: string;
  /** The durability section's cases (durability.ts): a "durable" row, the broker started with `brokerArgs`. */
  journal?: Journal;
  brokerArgs?: string[];
}

/** One throughput case; returns tasks/s. The broker's CPU per task is measured over the client's whole run. */
async function brokerCase(c: BrokerCase): Promise<number> {
  return (await measuredCase(c)).rate;
}

async function measuredCase(c: BrokerCase): Promise<CaseResult> {
  const broker = c.broker ?? "ztb";
  const started: { child: ChildProcess; endpoints: BrokerEndpoints } =
    broker === "ztb" ? await startBroker(c.brokerArgs) : broker === "relay" ? await startRelay() : await startPrototype(prototypePath() ?? "");
  const { endpoints } = started;
  const host =
    c.native === undefined
      ? await startWorkers(c.mode, endpoints, c.workers, c.capacity)
      : await startNativeWorkers(c.native, c.mode, endpoints, c.workers, c.capacity);
  try {
    const cpuBefore = cpuSeconds(started.child.pid);
    const result =
      c.native === undefined
        ? await runPipeline(endpoints.clients, WINDOW, c.payload, c.seconds)
        : await runNativePipeline(c.native, endpoints.clients, WINDOW, c.payload, c.seconds, true);
    const cpuMicros = ((cpuSeconds(started.child.pid) - cpuBefore) / Math.max(1, result.replies)) * 1e6;
    emit({
      case: c.journal !== undefined ? "durable" : broker === "ztb" ? "broker" : broker,
      ...(c.journal === undefined ? {} : { journal: c.journal, tasks: result.replies }),
      peers: c.native === undefined ? "zeromq.js" : "native",
      protocol: c.mode,
      workers: c.workers,
      capacity: c.capacity,
      payload: c.payload,
      tasksPerSecond: Math.round(result.rate),
      p50ms: result.latency.p50,
      p99ms: result.latency.p99,
      brokerCpuMicrosPerTask: Math.round(cpuMicros),
      failures: result.failures,
    });
    return { rate: result.rate, cpuMicros, replies: result.replies };
  } finally {
    await stop(host);
    await stop(started.child);
  }
}

function emitCeiling(peers: string, payload: number, result: CeilingResult, frames = 2): void {
  emit({
    case: "ceiling",
    peers,
    payload,
    frames,
    window: WINDOW,
    roundTripsPerSecond: Math.round(result.rate),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    serverCpuMicrosPerRoundTrip: Math.round(result.serverCpuMicros),
  });
}

/** Figures of the native-peers section, for the targets. */
interface NativeFigures {
  ceiling: number;
  legacy4: number;
  /** Not measured with --quick. */
  legacy64?: number;
  prototype4?: number;
  prototype64?: number;
}

/**
 * The same broker with native peers (native/peers.c): the setup the issue's prototype figure was measured with ("fast
 * native legacy workers and a pipelining client"), so the broker under test gets the CPU the zeromq.js peers took.
 */
async function nativeSection(binary: string, seconds: number, quick: boolean): Promise<NativeFigures> {
  const ceiling = await measureNativeEchoCeiling(binary, WINDOW, SMALL, seconds);
  emitCeiling("native", SMALL, ceiling);
  const base = { payload: SMALL, seconds, native: binary };
  await brokerCase({ ...base, mode: "modern", workers: 16, capacity: 16 });
  await brokerCase({ ...base, mode: "modern", workers: 4, capacity: 1 });
  const legacy4 = await brokerCase({ ...base, mode: "legacy", workers: 4, capacity: 1 });
  const figures: NativeFigures = { ceiling: ceiling.rate, legacy4 };
  if (!quick) figures.legacy64 = await brokerCase({ ...base, mode: "legacy", workers: 64, capacity: 1 });
  if (prototypePath() !== undefined) {
    figures.prototype4 = await brokerCase({ ...base, mode: "legacy", workers: 4, capacity: 1, broker: "prototype" });
    if (!quick) figures.prototype64 = await brokerCase({ ...base, mode: "legacy", workers: 64, capacity: 1, broker: "prototype" });
  }
  return figures;
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const secondsArg = process.argv.indexOf("--seconds");
  const seconds = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : quick ? 1 : 3;
  if (process.argv.includes("--durability")) return durabilityOnly(quick, seconds);
  if (process.argv.includes("--cluster")) return clusterOnly(quick, seconds);

  const ceiling: Record<number, number> = {};
  for (const payload of [SMALL, LARGE]) {
    const result = await measureEchoCeiling(WINDOW, payload, seconds);
    ceiling[payload] = result.rate;
    emitCeiling("zeromq.js", payload, result);
  }
  // The same echo with 8 frames per message (a TASK's count) instead of 2: the price of frames alone.
  emitCeiling("zeromq.js", SMALL, await measureEchoCeiling(WINDOW, SMALL, seconds, 8), 8);

  // The second baseline: a bare relay with ZTB/1's frames (relay-server.ts), 16 workers of capacity 16.
  const relay = await brokerCase({ mode: "modern", workers: 16, capacity: 16, payload: SMALL, seconds, broker: "relay" });

  const rates = new Map<string, number>();
  const workerCounts = quick ? [1, 4] : [1, 4, 16];
  for (const payload of quick ? [SMALL] : [SMALL, LARGE]) {
    for (const capacity of [1, 16]) {
      for (const workers of workerCounts) {
        rates.set(`${workers}/${capacity}/${payload}`, await brokerCase({ mode: "modern", workers, capacity, payload, seconds }));
      }
    }
  }
  const legacy = await brokerCase({ mode: "legacy", workers: 4, capacity: 1, payload: SMALL, seconds });
  const prototype =
    prototypePath() === undefined ? undefined : await brokerCase({ mode: "legacy", workers: 4, capacity: 1, payload: SMALL, seconds, broker: "prototype" });
  const durability = await measureDurability(quick ? 1 : 3, (journal, brokerArgs) => measuredCase({ ...MAIN_CASE, seconds, journal, brokerArgs }));
  const cluster = await measureCluster(seconds, quick, () => measuredCase({ ...MAIN_CASE, seconds }), emit);

  // The ceiling once more after the broker cases: how far the machine itself drifted during the run (ratios above use
  // the first measurement).
  const ceilingAfter = (await measureEchoCeiling(WINDOW, SMALL, seconds)).rate;

  const peers = await buildNativePeers();
  const native = "binary" in peers ? await nativeSection(peers.binary, seconds, quick) : peers.unavailable;

  const costs = await medianCoreCost([1_000, 100_000], quick ? 1 : 3);
  const cost1k = costs.get(1_000) ?? 0;
  const cost100k = costs.get(100_000) ?? 0;
  emit({ case: "core-cost", inFlight: 1_000, nsPerCycle: Math.round(cost1k) });
  emit({ case: "core-cost", inFlight: 100_000, nsPerCycle: Math.round(cost100k) });

  const shellNs = measureShellCost(quick ? 20_000 : 100_000);
  emit({ case: "shell-cost", nsPerTask: Math.round(shellNs) });

  const memory = await measureBrokerMemory(100_000);
  emit({ case: "memory", queued: 100_000, idleRssMiB: round(memory.idleRss / 2 ** 20, 1), loadedRssMiB: round(memory.loadedRss / 2 ** 20, 1), bytesPerTask: Math.round(memory.bytesPerTask) });

  const recoveryCount = quick ? 20_000 : 100_000;
  // Progress on stderr, one line rewritten in place: the fill of 100 000 tasks takes a while on a busy machine.
  const recovery = await measureRecovery(recoveryCount, (line) => process.stderr.write(`\r${line.padEnd(72)}`));
  process.stderr.write("\n");
  emit({
    case: "recovery",
    queued: recovery.count,
    listeningMs: Math.round(recovery.listeningMs),
    queuedMs: Math.round(recovery.queuedMs),
    emptyStartMs: Math.round(recovery.emptyStartMs),
    journalBytesPerTask: Math.round(recovery.bytesPerQueuedTask),
  });

  printTable({ ceiling, ceilingAfter, rates, relay, legacy, prototype, native, cost1k, cost100k, shellNs, bytesPerTask: memory.bytesPerTask, durability, recovery, cluster, quick });
}

/** `--durability`: only the durable-broker rows (throughput per --fsync policy against in-memory), for quick checks. */
async function durabilityOnly(quick: boolean, seconds: number): Promise<void> {
  const d = await measureDurability(quick ? 1 : 3, (journal, brokerArgs) => measuredCase({ ...MAIN_CASE, seconds, journal, brokerArgs }));
  const line = (name: string, r: CaseResult): string =>
    `${name.padEnd(16)} ${String(Math.round(r.rate)).padStart(7)} tasks/s ${String(Math.round(r.cpuMicros)).padStart(5)} µs CPU/task  ${(r.rate / d.memory.rate).toFixed(2)}`;
  console.log(line("in memory", d.memory));
  for (const mode of d.modes) console.log(line(`--fsync ${mode.fsync}`, mode.result));
}

/** `--cluster`: only the cluster rows (cluster.ts) and their in-memory baseline, with the scaling prediction. */
async function clusterOnly(quick: boolean, seconds: number): Promise<void> {
  const figures = await measureCluster(seconds, quick, () => measuredCase({ ...MAIN_CASE, seconds }), emit);
  process.stdout.write(`\n${clusterLines(figures).join("\n")}\n`);
}

interface Summary {
  ceiling: Record<number, number>;
  /** The 16 B ceiling measured again after the zeromq.js broker cases. */
  ceilingAfter: number;
  rates: Map<string, number>;
  relay: number;
  legacy: number;
  prototype: number | undefined;
  /** The native section's figures, or why it did not run. */
  native: NativeFigures | string;
  cost1k: number;
  cost100k: number;
  /** The broker's own JavaScript per task, without sockets (shell-cost.ts). */
  shellNs: number;
  bytesPerTask: number;
  durability: DurabilityFigures;
  recovery: RecoveryFigures;
  cluster: ClusterFigures;
  quick: boolean;
}

function rowName(row: Row): string {
  if (row.case === "durable") return row.journal === "memory" ? "in memory" : `--data --fsync ${row.journal}`;
  if (row.case === "ceiling") return `zeromq.js echo ceiling, ${row.payload} B${row.frames === 2 ? "" : `, ${row.frames} frames`}`;
  const who = row.case === "prototype" ? "prototype (Python), " : row.case === "relay" ? "bare relay, ZTB/1 frames, " : "";
  return `${who}${row.protocol} ${row.workers} workers x cap ${row.capacity}, ${row.payload} B`;
}

function tableLine(name: string, rate: unknown, p50: unknown, p99: unknown, cpu: unknown, ratio: string): string {
  const cell = (value: unknown, width: number): string => String(value).padStart(width);
  return `${name.padEnd(52)} ${cell(rate, 9)} ${cell(p50, 8)} ${cell(p99, 8)} ${cell(cpu, 9)}   ${ratio}`;
}

function printTable(s: Summary): void {
  const out: string[] = [""];
  const nativeCeiling = typeof s.native === "string" ? 1 : s.native.ceiling;
  for (const peers of ["zeromq.js", "native"]) {
    const section = rows.filter((row) => row.peers === peers && row.case !== "durable");
    if (section.length === 0) continue;
    out.push(peers === "native" ? "with native peers (broker/bench/native/peers.c: C workers and client, libzmq)" : "with zeromq.js peers (the client and workers are Node processes too)");
    out.push(tableLine("case", "tasks/s", "p50 ms", "p99 ms", "CPU µs", "ratio to ceiling"));
    for (const row of section) {
      const ceiling = peers === "native" ? nativeCeiling : (s.ceiling[Number(row.payload)] ?? 1);
      const [rate, cpu] =
        row.case === "ceiling" ? [row.roundTripsPerSecond, row.serverCpuMicrosPerRoundTrip] : [row.tasksPerSecond, row.brokerCpuMicrosPerTask];
      out.push(tableLine(rowName(row), rate, row.p50ms, row.p99ms, cpu, (Number(rate) / ceiling).toFixed(2)));
    }
    out.push("");
  }
  const m = MAIN_CASE;
  const d = s.durability;
  const rotation = d.rounds === 1 ? "run one after the other" : `the median of ${d.rounds} runs each, in rotation`;
  out.push(`durable broker (${m.mode} ${m.workers} workers x cap ${m.capacity}, ${m.payload} B, zeromq.js peers; ${rotation})`);
  out.push(tableLine("case", "tasks/s", "p50 ms", "p99 ms", "CPU µs", "ratio to in-memory"));
  for (const [journal, result] of [["memory", d.memory], ...d.modes.map((mode) => [mode.fsync, mode.result] as const)] as const) {
    // The JSON row of the run whose rate is the mode's median (rows hold every run).
    const row = rows.find((r) => r.case === "durable" && r.journal === journal && r.tasksPerSecond === Math.round(result.rate));
    if (row === undefined) continue;
    out.push(tableLine(rowName(row), row.tasksPerSecond, row.p50ms, row.p99ms, row.brokerCpuMicrosPerTask, (result.rate / Math.max(1, d.memory.rate)).toFixed(2)));
  }
  out.push(...durabilityNotes(s.durability, s.recovery));
  out.push("");
  out.push(...clusterLines(s.cluster));
  out.push("");
  out.push("CPU µs: CPU time of the echo server per round trip, or of the broker process per task (all its threads).");
  const before = s.ceiling[SMALL] ?? 1;
  out.push(`machine drift: the 16 B ceiling was ${Math.round(before)} round trips/s before the broker cases and ${Math.round(s.ceilingAfter)} after (${((s.ceilingAfter / before - 1) * 100).toFixed(0)} %); ratios that differ by less than that are within noise.`);
  if (typeof s.native === "string") out.push(`native peers not measured: ${s.native}`);
  const busiest = rows.find((row) => row.case === "broker" && row.peers === "zeromq.js" && row.workers === 16 && row.capacity === 16 && row.payload === SMALL);
  const cpu = Number(busiest?.brokerCpuMicrosPerTask ?? 0);
  const share = cpu > 0 ? ` = ${((s.shellNs / 1000 / cpu) * 100).toFixed(0)} % of the broker's ${cpu} µs of CPU per task at 16 x 16 (the rest: zeromq.js, the event loop, the kernel)` : "";
  out.push(`broker's own JavaScript per task (decode, core, encode; no sockets): ${Math.round(s.shellNs)} ns${share}`);
  out.push(`core cost per request+dispatch+result: ${Math.round(s.cost1k)} ns with 1 000 in flight, ${Math.round(s.cost100k)} ns with 100 000 (ratio ${(s.cost100k / s.cost1k).toFixed(2)})`);
  out.push(`broker memory per queued 16 B task: ${Math.round(s.bytesPerTask)} bytes`);
  out.push("");
  const small = s.ceiling[SMALL] ?? 1;
  const best16 = Math.max(...[1, 4, 16].map((w) => s.rates.get(`${w}/16/${SMALL}`) ?? 0));
  const cap1x4 = s.rates.get(`4/1/${SMALL}`) ?? 0;
  const check = (ok: boolean): string => (ok ? "met" : "NOT MET");
  out.push("targets (issue #6, ratios measured in this run):");
  out.push(`  capacity 16 throughput / ceiling >= 0.30: ${(best16 / small).toFixed(2)} ${check(best16 / small >= 0.3)}`);
  out.push(`  capacity 1, 4 workers / ceiling >= 0.15: ${(cap1x4 / small).toFixed(2)} ${check(cap1x4 / small >= 0.15)}`);
  out.push(`  (for scale: a bare relay of the same frames reaches ${(s.relay / small).toFixed(2)} of the ceiling; our best capacity-16 case is ${(best16 / s.relay).toFixed(2)} of the relay)`);
  if (s.prototype === undefined) {
    out.push(`  legacy protocol, 4 workers: ${Math.round(s.legacy)} tasks/s; the prototype was not measured in this run (set ZTB_PROTOTYPE_BROKER to its broker.py)`);
  } else {
    out.push(`  legacy protocol, 4 workers, ours / the prototype's broker >= 2: ${(s.legacy / s.prototype).toFixed(2)} (${Math.round(s.legacy)} vs ${Math.round(s.prototype)} tasks/s) ${check(s.legacy / s.prototype >= 2)}`);
  }
  const n = s.native;
  if (typeof n !== "string" && n.prototype4 !== undefined) {
    const ratio = (ours: number, theirs: number): string => `${(ours / theirs).toFixed(2)} (${Math.round(ours)} vs ${Math.round(theirs)})`;
    const at64 = n.legacy64 !== undefined && n.prototype64 !== undefined ? `, 64 workers ${ratio(n.legacy64, n.prototype64)}` : "";
    out.push(`    with native peers (the issue's setup): 4 workers ${ratio(n.legacy4, n.prototype4 ?? 1)}${at64}`);
  }
  out.push(`  core cost ratio 100 000 / 1 000 in flight <= 1.5: ${(s.cost100k / s.cost1k).toFixed(2)} ${check(s.cost100k / s.cost1k <= 1.5)}`);
  out.push(`  broker memory per queued small task < 1024 bytes: ${Math.round(s.bytesPerTask)} ${check(s.bytesPerTask < 1024)}`);
  out.push(...durabilityTargets(s.durability, s.recovery, s.quick));
  process.stdout.write(`${out.join("\n")}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
