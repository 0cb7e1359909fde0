/** Runs the real CLI `ztb conformance ...` as a child process and parses its report. */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import type { CheckResult, CheckStatus } from "../../broker/src/conformance";
import { collectOutput, type CliRun } from "../runtime/child-output";

export const ROOT = join(__dirname, "../../..");
export const CLI = join(ROOT, "out/broker/src/cli/main.js");
export const FIXTURES = join(__dirname, "fixtures");
/** The ztb CLI as a command under test. */
export const ZTB = [process.execPath, CLI];
/** Every run takes a few seconds of real heartbeats, silences and restarts. */
export const RUN_TIMEOUT_MS = 90_000;

const PYTHON = "/usr/bin/python3";

/** The Python implementations need pyzmq; without it their tests fail (never skip) saying how to install it. */
export function requirePyzmq(): string {
  const probe = spawnSync(PYTHON, ["-c", "import zmq"], { encoding: "utf8" });
  if (probe.status !== 0) {
    const why = (probe.stderr ?? "").trim() || String(probe.error ?? `exit ${String(probe.status)}`);
    throw new Error(`${PYTHON} cannot import zmq (${why}): install pyzmq with \`apt-get install python3-zmq\` (.ci/run does)`);
  }
  return PYTHON;
}

export type Run = CliRun;

export function conformance(args: string[]): Promise<Run> {
  return collectOutput(spawn(process.execPath, [CLI, "conformance", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
}

export interface JsonReport {
  ok: boolean;
  mode: string;
  checks: CheckResult[];
  summary: { passed: number; failed: number; skipped: number; notApplicable: number };
}

export async function conformanceJson(args: string[]): Promise<{ code: number | null; report: JsonReport; statuses: Record<string, CheckStatus> }> {
  const run = await conformance(["--json", ...args]);
  let report: JsonReport;
  try {
    report = JSON.parse(run.stdout) as JsonReport;
  } catch {
    throw new Error(`not a JSON report (exit ${String(run.code)}):\n${run.stdout}\n${run.stderr}`);
  }
  const statuses = Object.fromEntries(report.checks.map((check) => [check.id, check.status]));
  return { code: run.code, report, statuses };
}

/** The report's rows, for assertion messages. */
export function rows(report: JsonReport): string {
  return report.checks.map((check) => `${check.status} ${check.id} ${check.detail ?? ""}`).join("\n");
}
