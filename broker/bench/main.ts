/**
 * `npm run bench`: the broker's throughput, latency, per-operation cost and memory, each against a baseline measured
 * in the same run on the same machine (a benchmark that prints figures and ratios, never a timed test).
 *
 * Prints one JSON line per case, then a readable table and the targets of issue #6 as ratios.
 * Options: --quick (shorter runs, fewer cases), --seconds N (measuring time per throughput case).
 */
import type { ChildProcess } from "node:child_process";
import { measureBrokerMemory } from "./broker-memory";
import { medianCoreCost } from "./core-cost";
import { measureEchoCeiling } from "./echo-ceiling";
import { runPipeline } from "./pipeline-client";
import { type BrokerEndpoints, startBroker, startRelay, startWorkers, stop } from "./processes";
import { prototypePath, startPrototype } from "./prototype";
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

async function brokerCase(
  mode: "modern" | "legacy",
  workers: number,
  capacity: number,
  payload: number,
  seconds: number,
  broker: "ztb" | "prototype" | "relay" = "ztb",
): Promise<number> {
  const started: { child: ChildProcess; endpoints: BrokerEndpoints } =
    broker === "ztb" ? await startBroker() : broker === "relay" ? await startRelay() : await startPrototype(prototypePath() ?? "");
  const { endpoints } = started;
  const host = await startWorkers(mode, endpoints, workers, capacity);
  try {
    const result = await runPipeline(endpoints.clients, WINDOW, payload, seconds);
    emit({
      case: broker === "ztb" ? "broker" : broker,
      protocol: mode,
      workers,
      capacity,
      payload,
      tasksPerSecond: Math.round(result.rate),
      p50ms: result.latency.p50,
      p99ms: result.latency.p99,
      failures: result.failures,
    });
    return result.rate;
  } finally {
    await stop(host);
    await stop(started.child);
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const secondsArg = process.argv.indexOf("--seconds");
  const seconds = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : quick ? 1 : 3;

  const ceiling: Record<number, number> = {};
  for (const payload of [SMALL, LARGE]) {
    const result = await measureEchoCeiling(WINDOW, payload, seconds);
    ceiling[payload] = result.rate;
    emit({ case: "ceiling", payload, window: WINDOW, roundTripsPerSecond: Math.round(result.rate), p50ms: result.latency.p50, p99ms: result.latency.p99 });
  }

  // The second baseline: a bare relay with ZTB/1's frames (relay-server.ts), 16 workers of capacity 16.
  const relay = await brokerCase("modern", 16, 16, SMALL, seconds, "relay");

  const rates = new Map<string, number>();
  const workerCounts = quick ? [1, 4] : [1, 4, 16];
  for (const payload of quick ? [SMALL] : [SMALL, LARGE]) {
    for (const capacity of [1, 16]) {
      for (const workers of workerCounts) {
        rates.set(`${workers}/${capacity}/${payload}`, await brokerCase("modern", workers, capacity, payload, seconds));
      }
    }
  }
  const legacy = await brokerCase("legacy", 4, 1, SMALL, seconds);
  const prototype = prototypePath() === undefined ? undefined : await brokerCase("legacy", 4, 1, SMALL, seconds, "prototype");

  const costs = await medianCoreCost([1_000, 100_000], quick ? 1 : 3);
  const cost1k = costs.get(1_000) ?? 0;
  const cost100k = costs.get(100_000) ?? 0;
  emit({ case: "core-cost", inFlight: 1_000, nsPerCycle: Math.round(cost1k) });
  emit({ case: "core-cost", inFlight: 100_000, nsPerCycle: Math.round(cost100k) });

  const memory = await measureBrokerMemory(100_000);
  emit({ case: "memory", queued: 100_000, idleRssMiB: round(memory.idleRss / 2 ** 20, 1), loadedRssMiB: round(memory.loadedRss / 2 ** 20, 1), bytesPerTask: Math.round(memory.bytesPerTask) });

  printTable(ceiling, rates, relay, legacy, prototype, cost1k, cost100k, memory.bytesPerTask);
}

function printTable(
  ceiling: Record<number, number>,
  rates: Map<string, number>,
  relay: number,
  legacy: number,
  prototype: number | undefined,
  cost1k: number,
  cost100k: number,
  bytesPerTask: number,
): void {
  const out: string[] = [];
  out.push("");
  out.push("case                                   tasks/s   p50 ms   p99 ms   ratio to ceiling");
  for (const row of rows) {
    if (row.case === "ceiling") {
      out.push(`${`zeromq.js echo ceiling, ${row.payload} B`.padEnd(36)} ${String(row.roundTripsPerSecond).padStart(9)} ${String(row.p50ms).padStart(8)} ${String(row.p99ms).padStart(8)}   1.00`);
    } else if (row.case === "broker" || row.case === "prototype" || row.case === "relay") {
      const c = ceiling[Number(row.payload)] ?? 1;
      const who = row.case === "prototype" ? "prototype (Python), " : row.case === "relay" ? "bare relay, ZTB/1 frames, " : "";
      const name = `${who}${row.protocol} ${row.workers} workers x cap ${row.capacity}, ${row.payload} B`;
      out.push(`${name.padEnd(36)} ${String(row.tasksPerSecond).padStart(9)} ${String(row.p50ms).padStart(8)} ${String(row.p99ms).padStart(8)}   ${(Number(row.tasksPerSecond) / c).toFixed(2)}`);
    }
  }
  out.push(`core cost per request+dispatch+result: ${Math.round(cost1k)} ns with 1 000 in flight, ${Math.round(cost100k)} ns with 100 000 (ratio ${(cost100k / cost1k).toFixed(2)})`);
  out.push(`broker memory per queued 16 B task: ${Math.round(bytesPerTask)} bytes`);
  out.push("");
  const small = ceiling[SMALL] ?? 1;
  const best16 = Math.max(...[1, 4, 16].map((w) => rates.get(`${w}/16/${SMALL}`) ?? 0));
  const cap1x4 = rates.get(`4/1/${SMALL}`) ?? 0;
  const check = (ok: boolean): string => (ok ? "met" : "NOT MET");
  out.push("targets (issue #6, ratios measured in this run):");
  out.push(`  capacity 16 throughput / ceiling >= 0.30: ${(best16 / small).toFixed(2)} ${check(best16 / small >= 0.3)}`);
  out.push(`  capacity 1, 4 workers / ceiling >= 0.15: ${(cap1x4 / small).toFixed(2)} ${check(cap1x4 / small >= 0.15)}`);
  out.push(`  (for scale: a bare relay of the same frames reaches ${(relay / small).toFixed(2)} of the ceiling; our best capacity-16 case is ${(best16 / relay).toFixed(2)} of the relay)`);
  if (prototype === undefined) {
    out.push(`  legacy protocol, 4 workers: ${Math.round(legacy)} tasks/s; the prototype was not measured in this run (set ZTB_PROTOTYPE_BROKER to its broker.py)`);
  } else {
    out.push(`  legacy protocol, 4 workers, ours / the prototype's broker >= 2: ${(legacy / prototype).toFixed(2)} (${Math.round(legacy)} vs ${Math.round(prototype)} tasks/s) ${check(legacy / prototype >= 2)}`);
  }
  out.push(`  core cost ratio 100 000 / 1 000 in flight <= 1.5: ${(cost100k / cost1k).toFixed(2)} ${check(cost100k / cost1k <= 1.5)}`);
  out.push(`  broker memory per queued small task < 1024 bytes: ${Math.round(bytesPerTask)} ${check(bytesPerTask < 1024)}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
