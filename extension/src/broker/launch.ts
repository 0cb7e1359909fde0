/**
 * How the extension runs `ztb` (broker and test workers) as child processes. Pure, unit-tested.
 *
 * The bundled `ztb` is the package's own compiled CLI (out/broker/src/cli/main.js), run by the extension host's own
 * runtime: `process.execPath` with ELECTRON_RUN_AS_NODE=1 (under desktop VS Code that is Electron acting as Node; in a
 * remote or code-server host it is Node and the variable is ignored). `ztb.ztbPath` may name another script (.js
 * files run the same way) or an executable.
 */
import type { CurveFiles } from "../bridge/ipc";

export interface Launch {
  command: string;
  args: string[];
  /** Extra environment entries. */
  env: Record<string, string>;
}

export interface BrokerSettings {
  clients: string;
  workers: string;
  answers: string;
  admin: string;
  /** 0 = unlimited. */
  tries: number;
  /** Seconds, 0 = none. */
  timeout: number;
  heartbeat: number;
  history: number;
  /** Absolute directory for `--data` (a durable broker); "" = the broker keeps its tasks in memory. */
  dataDirectory: string;
}

export function ztbLaunch(execPath: string, bundledCli: string, ztbPath: string, args: string[]): Launch {
  const path = ztbPath.trim();
  if (path === "" || /\.[cm]?js$/.test(path)) {
    return { command: execPath, args: [path === "" ? bundledCli : path, ...args], env: { ELECTRON_RUN_AS_NODE: "1" } };
  }
  return { command: path, args, env: {} };
}

/** `ztb broker` arguments from the settings (see `ztb broker --help`); `curve` = broker/curve.ts ownBrokerCurve's args. */
export function brokerArgs(s: BrokerSettings, curve: readonly string[] = []): string[] {
  const args = ["broker"];
  if (s.tries > 0) args.push("-t", String(Math.floor(s.tries)));
  if (s.timeout > 0) args.push("-T", String(s.timeout));
  args.push("--admin", s.admin, "--heartbeat", String(Math.floor(s.heartbeat)), "--history", String(Math.floor(s.history)));
  if (s.dataDirectory !== "") args.push("--data", s.dataDirectory);
  // A short grace: Stop Broker should feel immediate; pending clients still get their failed/shutdown reply.
  args.push("--grace", "1000", "--log-level", "info", "--log-format", "json");
  args.push(...curve, s.clients, s.workers, s.answers);
  return args;
}

/**
 * `ztb worker` arguments for test worker `index` (1-based). `drop` is a fraction 0..1. With `curve` the worker uses the
 * extension's certificate (file paths on the command line, never keys).
 */
/** A payload the test workers never answer, so a failure (timeout after the last attempt) can be made on purpose. */
export const TEST_WORKER_POISON = "poison";

export function workerArgs(workers: string, answers: string, drop: number, index: number, curve?: CurveFiles): string[] {
  const args = ["worker", workers, answers, String(drop), "--name", `test-${index}`, "--poison", TEST_WORKER_POISON, "--quiet", "--log-format", "json"];
  if (curve) args.push("--curve-key", curve.certificate, "--server-key", curve.serverKey);
  return args;
}

/** A bound endpoint as a connect address: `tcp://*:4161` and `tcp://0.0.0.0:4161` become `tcp://127.0.0.1:4161`. */
export function connectAddress(endpoint: string): string {
  return endpoint.replace(/^tcp:\/\/(\*|0\.0\.0\.0):/, "tcp://127.0.0.1:").replace(/^tcp:\/\/\[(::|\*)\]:/, "tcp://[::1]:");
}

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

export interface LogLine {
  level: LogLevel;
  text: string;
}

/**
 * One stderr line of `ztb` with `--log-format json` ({time, level, event, ...fields}) as a log channel line. Lines that
 * are not JSON are the CLI's own one-line errors ("ztb broker: cannot bind …", usage errors, a crash): level error.
 * The broker names workers by id (`worker: "w1"`); the log shows them by the name the views use (`workerName`, or the
 * line's own `name`), so a worker has one identity in the log too.
 */
export function parseLogLine(line: string, workerName: (id: string) => string = (id) => id): LogLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { level: "error", text: line };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { level: "error", text: line };
  const record = parsed as Record<string, unknown>;
  const { time: _time, level, event, ...fields } = record;
  if (typeof fields["worker"] === "string") {
    fields["worker"] = typeof fields["name"] === "string" ? fields["name"] : workerName(fields["worker"]);
    delete fields["name"];
  }
  const known: LogLevel[] = ["debug", "info", "warn", "error"];
  const lvl = known.find((l) => l === level) ?? "info";
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return { level: lvl, text: `${typeof event === "string" ? event : "log"}${rest ? " " + rest : ""}` };
}
