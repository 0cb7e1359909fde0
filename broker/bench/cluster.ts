/**
 * Cluster mode's cost (issue 11), in the same run as its baseline: the main throughput case (modern, 4 workers x
 * capacity 16, 16 B, a pipelining client with 256 in flight) through
 *
 * - the in-memory broker (the baseline),
 * - one `ztb broker --cluster` over one nats-server (R1),
 * - two brokers over that one nats-server, the workers (2 x 16 each) and the client's window (128 each) split across them,
 * - two brokers over three nats-server nodes with R3 (unless --quick).
 *
 * For each: tasks/s, its ratio to the baseline, and CPU per task of the brokers and of nats-server (utime + stime of
 * every process from /proc/PID/stat, over the client's whole run, warm-up included) — the figures that say how far N
 * brokers go on a machine with more cores (`clusterLines` prints that prediction with its arithmetic).
 */
import type { ChildProcess } from "node:child_process";
import { NatsCluster } from "../../test/cluster/nats-harness";
import type { CaseResult } from "./durability";
import { runPipeline, type PipelineResult } from "./pipeline-client";
import { type BrokerEndpoints, cpuSeconds, startBroker, startWorkers, stop } from "./processes";

const WINDOW = 256;
const WORKERS = 4;
const CAPACITY = 16;
const PAYLOAD = 16;

export interface ClusterRow {
  name: string;
  brokers: number;
  replicas: number;
  rate: number;
  p50: number;
  p99: number;
  /** CPU µs per task: all brokers together, and all nats-server nodes together. */
  brokerCpu: number;
  natsCpu: number;
  failures: number;
}

export interface ClusterFigures {
  memory: CaseResult;
  rows: ClusterRow[];
}

export type Emit = (row: { case: string; [key: string]: string | number }) => void;

let clusterCounter = 0;

/** `brokers` cluster brokers over `nats`, the workers and the window split across them, measured together. */
async function clusterCase(nats: NatsCluster, brokers: number, replicas: number, seconds: number): Promise<Omit<ClusterRow, "name">> {
  clusterCounter++;
  const name = `bench${process.pid}x${clusterCounter}`;
  const started: { child: ChildProcess; endpoints: BrokerEndpoints }[] = [];
  const hosts: ChildProcess[] = [];
  try {
    for (let b = 0; b < brokers; b++) {
      started.push(
        await startBroker(["--cluster", nats.urls.join(","), "--cluster-name", name, "--broker-id", `b${b}`, "--replicas", String(replicas), "--log-level", "warn"]),
      );
    }
    for (const broker of started) hosts.push(await startWorkers("modern", broker.endpoints, WORKERS / brokers, CAPACITY));
    const pids = nats.nodes.map((node) => node.pid);
    const natsBefore = pids.map(cpuSeconds);
    const brokersBefore = started.map((b) => cpuSeconds(b.child.pid));
    const results: PipelineResult[] = await Promise.all(started.map((b) => runPipeline(b.endpoints.clients, WINDOW / brokers, PAYLOAD, seconds)));
    const brokerCpu = started.reduce((sum, b, i) => sum + cpuSeconds(b.child.pid) - (brokersBefore[i] ?? 0), 0);
    const natsCpu = pids.reduce<number>((sum, pid, i) => sum + cpuSeconds(pid) - (natsBefore[i] ?? 0), 0);
    const replies = results.reduce((sum, r) => sum + r.replies, 0);
    const perTask = (cpu: number): number => (cpu / Math.max(1, replies)) * 1e6;
    return {
      brokers,
      replicas,
      rate: results.reduce((sum, r) => sum + r.rate, 0),
      // Latency of the first client's run (every client sees the same queue).
      p50: results[0]?.latency.p50 ?? 0,
      p99: Math.max(...results.map((r) => r.latency.p99)),
      brokerCpu: perTask(brokerCpu),
      natsCpu: perTask(natsCpu),
      failures: results.reduce((sum, r) => sum + r.failures, 0),
    };
  } finally {
    for (const host of hosts) await stop(host);
    for (const broker of started) await stop(broker.child);
  }
}

/** The baseline (`memory` runs the in-memory main case) and the cluster rows, each emitted as a JSON line. */
export async function measureCluster(seconds: number, quick: boolean, memory: () => Promise<CaseResult>, emit: Emit): Promise<ClusterFigures> {
  const baseline = await memory();
  const rows: ClusterRow[] = [];
  const record = (row: ClusterRow): void => {
    rows.push(row);
    emit({
      case: "cluster",
      setup: row.name,
      brokers: row.brokers,
      replicas: row.replicas,
      tasksPerSecond: Math.round(row.rate),
      p50ms: row.p50,
      p99ms: row.p99,
      brokerCpuMicrosPerTask: Math.round(row.brokerCpu),
      natsCpuMicrosPerTask: Math.round(row.natsCpu),
      ratioToMemory: Math.round((row.rate / Math.max(1, baseline.rate)) * 100) / 100,
      failures: row.failures,
    });
  };
  const one = await NatsCluster.start({ nodes: 1 });
  try {
    record({ name: "1 broker, 1 nats-server (R1)", ...(await clusterCase(one, 1, 1, seconds)) });
    record({ name: "2 brokers, 1 nats-server (R1)", ...(await clusterCase(one, 2, 1, seconds)) });
  } finally {
    await one.stop();
  }
  if (!quick) {
    const three = await NatsCluster.start({ nodes: 3 });
    try {
      record({ name: "2 brokers, 3 nats-server nodes (R3)", ...(await clusterCase(three, 2, 3, seconds)) });
    } finally {
      await three.stop();
    }
  }
  return { memory: baseline, rows };
}

const cell = (value: unknown, width: number): string => String(value).padStart(width);

/** The cluster table, and what its CPU figures predict for N brokers on a machine with more cores. */
export function clusterLines(f: ClusterFigures): string[] {
  const out = [`cluster mode (modern ${WORKERS} workers x cap ${CAPACITY}, ${PAYLOAD} B, ${WINDOW} in flight, zeromq.js peers; workers and window split across the brokers)`];
  out.push(`${"case".padEnd(40)} ${cell("tasks/s", 9)} ${cell("p50 ms", 8)} ${cell("p99 ms", 8)} ${cell("broker µs", 10)} ${cell("nats µs", 8)}   ratio to in-memory`);
  out.push(`${"in-memory broker (same run)".padEnd(40)} ${cell(Math.round(f.memory.rate), 9)} ${cell("", 8)} ${cell("", 8)} ${cell(Math.round(f.memory.cpuMicros), 10)} ${cell("-", 8)}   1.00`);
  for (const row of f.rows) {
    out.push(
      `${row.name.padEnd(40)} ${cell(Math.round(row.rate), 9)} ${cell(row.p50, 8)} ${cell(row.p99, 8)} ${cell(Math.round(row.brokerCpu), 10)} ${cell(Math.round(row.natsCpu), 8)}   ${(row.rate / Math.max(1, f.memory.rate)).toFixed(2)}`,
    );
  }
  out.push("broker µs / nats µs: CPU time (user + system, all threads) of all brokers / all nats-server nodes per task.");
  const single = f.rows.find((row) => row.brokers === 1);
  const two = f.rows.find((row) => row.brokers === 2 && row.replicas === 1);
  if (single !== undefined) out.push(...prediction(single, two, f.rows.find((row) => row.replicas === 3)));
  return out;
}

/**
 * The arithmetic: a broker is one event loop (plus libzmq's I/O thread), so one broker tops out near 1 core / its CPU
 * per task; nats-server is multi-threaded and its CPU per task is shared by every broker. On a machine of K cores
 * running the brokers and nats-server (workers and clients elsewhere), N brokers carry at most
 * min(N x 10^6 / b, K x 10^6 / (b + n)) tasks/s, b and n in µs per task.
 */
function prediction(single: ClusterRow, two: ClusterRow | undefined, r3: ClusterRow | undefined): string[] {
  const b = single.brokerCpu;
  const n = single.natsCpu;
  const perBroker = 1e6 / b;
  const lines = [
    `prediction (from the 1-broker R1 row: b = ${Math.round(b)} µs broker CPU per task, n = ${Math.round(n)} µs nats-server CPU per task):`,
    `  one broker is one event loop: at most 10^6 / b = ${Math.round(perBroker)} tasks/s per broker, whatever the machine;`,
    `  brokers and nats-server together need b + n = ${Math.round(b + n)} µs of CPU per task, so K cores carry at most K x 10^6 / (b + n) = K x ${Math.round(1e6 / (b + n))} tasks/s;`,
    `  N brokers on K cores: min(N x ${Math.round(perBroker)}, K x ${Math.round(1e6 / (b + n))}) tasks/s, i.e. brokers stop adding throughput at N = K x b / (b + n) = K x ${(b / (b + n)).toFixed(2)}:`,
  ];
  for (const cores of [4, 8, 16]) {
    const rate = cores * (1e6 / (b + n));
    lines.push(`    ${String(cores).padStart(2)} cores: up to ~${Math.round(rate)} tasks/s with N >= ${Math.max(1, Math.ceil(rate / perBroker))} brokers`);
  }
  if (two !== undefined) {
    lines.push(
      `  here (2 cores, shared with the client, the workers and other work): 2 brokers / 1 broker = ${(two.rate / Math.max(1, single.rate)).toFixed(2)}; ` +
        `b per task ${Math.round(single.brokerCpu)} → ${Math.round(two.brokerCpu)} µs, n ${Math.round(single.natsCpu)} → ${Math.round(two.natsCpu)} µs` +
        (two.rate < 1.3 * single.rate ? " — the cores were already busy, so the second broker shows its cost, not its gain." : "."),
    );
  }
  if (r3 !== undefined) {
    lines.push(`  R3 (three nodes, one host): n = ${Math.round(r3.natsCpu)} µs per task for all three nodes (${(r3.natsCpu / Math.max(1, n)).toFixed(1)} x R1): on three machines that is ~${Math.round(r3.natsCpu / 3)} µs per node.`);
  }
  lines.push("  assumptions: the queue is not the limit before the CPU is (one stream, one consumer per service), workers and clients run on other machines; one measurement on a noisy 2-core machine.");
  return lines;
}
