/** The checker's output: one line per check and a summary, or one JSON document (`--json`). */
import type { CheckResult, CheckStatus } from "./checks";

export interface Report {
  role: "worker" | "client";
  mode: "modern" | "legacy" | "client";
  command: string[];
  endpoints: { clients: string; workers: string; answers: string };
  checks: CheckResult[];
  /** How the command under test ended (after the checker stopped it, if it had to). */
  process: { exitCode: number | null; signal: string | null; stderrTail: string[] };
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  notApplicable: number;
}

const LABEL: Record<CheckStatus, string> = { pass: "PASS", fail: "FAIL", skip: "SKIP", "n/a": "N/A " };

export function summarize(checks: readonly CheckResult[]): Summary {
  const count = (status: CheckStatus): number => checks.filter((check) => check.status === status).length;
  return { passed: count("pass"), failed: count("fail"), skipped: count("skip"), notApplicable: count("n/a") };
}

/** Exit status of the command: 1 when any check failed. */
export function exitCode(report: Report): number {
  return summarize(report.checks).failed > 0 ? 1 : 0;
}

export function formatText(report: Report): string {
  const width = Math.max(...report.checks.map((check) => check.id.length));
  const lines = [`ztb conformance ${report.role}${report.mode === "legacy" ? " --legacy" : ""}: ${report.command.join(" ")}`];
  lines.push(`  endpoints: clients ${report.endpoints.clients}  workers ${report.endpoints.workers}  answers ${report.endpoints.answers}`);
  // What applies first; the not-applicable rows only document what this kind of peer is not asked.
  for (const check of [...report.checks.filter((c) => c.status !== "n/a"), ...report.checks.filter((c) => c.status === "n/a")]) {
    let line = `${LABEL[check.status]} ${check.id.padEnd(width)}  ${check.title}`;
    if (check.detail !== undefined) line += ` — ${check.detail}`;
    for (const frames of check.frames ?? []) line += `  frames: ${frames}`;
    lines.push(`${line}  (spec ${check.spec})`);
  }
  const s = summarize(report.checks);
  const ended = report.process.signal !== null ? `signal ${report.process.signal}` : `exit code ${String(report.process.exitCode)}`;
  lines.push(
    `${s.failed > 0 ? "FAILED" : "PASSED"}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped, ${s.notApplicable} not applicable` +
      ` (command ended with ${ended})`,
  );
  if (s.failed > 0 && report.process.stderrTail.length > 0) {
    lines.push("last lines of the command's stderr:", ...report.process.stderrTail.map((line) => `  | ${line}`));
  }
  return lines.join("\n") + "\n";
}

export function formatJson(report: Report): string {
  return JSON.stringify({ ...report, summary: summarize(report.checks), ok: summarize(report.checks).failed === 0 }, null, 2) + "\n";
}
