/**
 * Per-operation cost of the sans-I/O core with many tasks in flight: one request → dispatch → result cycle on an
 * idle service, measured while `inFlight` other tasks sit in the core (half queued for a service nobody serves,
 * half running on workers that never answer, each with a pending timeout in the heap). The cost must not grow
 * with `inFlight` (spec: dispatch O(1), timeouts in a heap, lookups by id).
 */
import type { Input } from "../src/core/api";
import { BrokerCore } from "../src/core/broker-core";
import { benchCoreConfig } from "./core-config";
import type { Frame } from "../src/protocol/messages";

const DELIMITER: Frame = new Uint8Array(0);
const PAYLOAD: Frame = new Uint8Array(16).fill(0x63);

function ready(name: string, services: string[], capacity: number): Input {
  return { kind: "worker", peer: name, msg: { type: "ready", options: { name, services, capacity, heartbeat: 60_000 } } };
}

function request(service: string): Input {
  return { kind: "client", peer: "client", msg: { type: "request", path: [DELIMITER], options: { service }, payload: [PAYLOAD] } };
}

/** Nanoseconds per cycle, best of `rounds` rounds of `cycles` cycles. */
export function measureCoreCost(inFlight: number, cycles = 20_000, rounds = 5): number {
  let now = 1_000_000;
  const core = new BrokerCore(benchCoreConfig(600_000), now);
  const runningWorkers = Math.ceil(inFlight / 2 / 1000);
  for (let i = 0; i < runningWorkers; i++) core.handle(ready(`slow-${i}`, ["slow"], 1000), now);
  for (let i = 0; i < inFlight / 2; i++) {
    core.handle(request("slow"), now);
    core.handle(request("bulk"), now);
  }
  core.handle(ready("fast", ["fast"], 1), now);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < cycles; i++) {
      now += 1;
      const outputs = core.handle(request("fast"), now);
      let task: Frame | undefined;
      for (const out of outputs) if (out.kind === "to-worker" && out.msg.type === "task") task = out.msg.task;
      if (task === undefined) throw new Error("core did not dispatch to the idle worker");
      core.handle({ kind: "worker", peer: "fast", msg: { type: "result", task, payload: [PAYLOAD] } }, now);
    }
    const ns = Number(process.hrtime.bigint() - start) / cycles;
    best = Math.min(best, ns);
  }
  const counters = core.snapshot({ tasks: { limit: 1 } }, now).counters;
  if (counters.queued + counters.running < inFlight) throw new Error(`only ${counters.queued + counters.running} in flight`);
  return best;
}

/**
 * The figure the benchmark reports: `measureCoreCost` run in `runs` fresh processes per size, sizes alternating so
 * that machine noise hits both alike, and the median taken (one process measuring both sizes in turn showed ratios
 * from 0.7 to 2.1, JIT and heap state of the first run leaking into the second).
 */
export async function medianCoreCost(inFlight: number[], runs = 3): Promise<Map<number, number>> {
  const { execFile } = await import("node:child_process");
  const { join } = await import("node:path");
  const samples = new Map<number, number[]>(inFlight.map((n) => [n, []]));
  for (let run = 0; run < runs; run++) {
    for (const n of inFlight) {
      const output = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [join(__dirname, "core-cost-child.js"), String(n)], (error, stdout) =>
          error ? reject(error) : resolve(stdout),
        ),
      );
      samples.get(n)?.push(Number(output.trim()));
    }
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  return new Map([...samples].map(([n, values]) => [n, median(values)]));
}
