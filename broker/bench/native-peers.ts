/**
 * The optional native load generators (native/peers.c): built on first use with the system's C compiler when libzmq's
 * headers are present (Debian: gcc and libzmq3-dev), otherwise the benchmark says why and skips their cases.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { firstLine } from "./first-line";
import type { BrokerEndpoints } from "./processes";

const run = promisify(execFile);
const SOURCE = path.join(__dirname, "..", "..", "..", "broker", "bench", "native", "peers.c");
const BINARY = path.join(__dirname, "native", "peers");

export type NativePeers = { binary: string } | { unavailable: string };

/** Compiles peers.c when the binary is missing or older than its source. */
export async function buildNativePeers(): Promise<NativePeers> {
  if (!existsSync(SOURCE)) return { unavailable: `${SOURCE} is missing` };
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return { binary: BINARY };
  mkdirSync(path.dirname(BINARY), { recursive: true });
  const cc = process.env.CC ?? "cc";
  try {
    await run(cc, ["-O2", "-o", BINARY, SOURCE, "-lzmq"]);
    return { binary: BINARY };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    const first = stderr.split("\n").find((line) => line.includes("error")) ?? (error instanceof Error ? error.message : String(error));
    return { unavailable: `${cc} could not build native/peers.c (install gcc and libzmq3-dev): ${first.trim()}` };
  }
}

/** Starts COUNT native workers (one process each) and waits until they exist. */
export async function startNativeWorkers(
  binary: string,
  mode: "modern" | "legacy",
  endpoints: BrokerEndpoints,
  count: number,
  capacity: number,
): Promise<ChildProcess> {
  const child = spawn(binary, [mode, endpoints.workers, endpoints.answers || "-", String(count), String(capacity)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await firstLine(child.stdout);
  return child;
}

export interface NativePipelineResult {
  rate: number;
  latency: { p50: number; p99: number };
  failures: number;
  /** Every reply of the run, warm-up included (for CPU per task). */
  replies: number;
}

/** Runs the native pipelining client to completion. `envelope` false: no delimiter (the echo server's format). */
export async function runNativePipeline(
  binary: string,
  endpoint: string,
  window: number,
  payloadBytes: number,
  seconds: number,
  envelope: boolean,
): Promise<NativePipelineResult> {
  const { stdout } = await run(binary, ["client", endpoint, String(window), String(payloadBytes), String(seconds), envelope ? "1" : "0"], {
    timeout: (seconds + 30) * 1000,
  });
  const parsed = JSON.parse(stdout) as { rate: number; p50: number; p99: number; failures: number; replies: number };
  return { rate: parsed.rate, latency: { p50: parsed.p50, p99: parsed.p99 }, failures: parsed.failures, replies: parsed.replies };
}
