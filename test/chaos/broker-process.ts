/**
 * The broker as a child process (`ztb broker`, the real CLI) on ephemeral loopback ports, with its JSON log lines
 * counted by event and its resident memory readable from /proc — what the chaos, overload and restart tests watch.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const CLI = join(__dirname, "../../broker/src/cli/main.js");

export interface BrokerEndpoints {
  clients: string;
  workers: string;
  answers: string;
  admin: string;
}

export interface BrokerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly endpoints: BrokerEndpoints;
  /** Log lines per `event` (the broker logs JSON at the level it was given). */
  readonly events: Map<string, number>;
  /** The last log lines, for diagnostics. */
  readonly recent: string[];
  /** Exit code or signal once the process has ended. */
  readonly exited: Promise<number | string | null>;
  /** SIGTERM (graceful), SIGKILL after `graceMs` + 3 s; resolves when the process is gone. */
  stop(graceMs?: number): Promise<number | string | null>;
}

const RECENT_LINES = 50;

/** The file-descriptor limits (RLIMIT_NOFILE) the broker is started with, as `ulimit -Hn` and `ulimit -Sn` set them. */
export interface OpenFileLimits {
  soft: number;
  hard: number;
}

/**
 * Starts `ztb broker ARGS` bound to tcp://127.0.0.1:* (all four endpoints, unless `endpoints` pins them) with JSON logs,
 * and resolves once it has announced where it listens.
 */
/** What else a test may set for the broker process. */
export interface SpawnOptions {
  /** Extra environment variables (e.g. the crash failpoint of test/durability). */
  env?: NodeJS.ProcessEnv;
  /** Soft and hard nofile limits. */
  openFiles?: OpenFileLimits;
}

export function spawnBroker(args: string[], endpoints?: BrokerEndpoints, options: SpawnOptions = {}): Promise<BrokerProcess> {
  const { env, openFiles } = options;
  const any = "tcp://127.0.0.1:*";
  // With limits, a shell sets them and then becomes node (exec: the pid stays the broker's).
  const [command, prefix] =
    openFiles === undefined
      ? [process.execPath, []]
      : ["/bin/sh", ["-c", `ulimit -Sn ${openFiles.soft} && ulimit -Hn ${openFiles.hard} && exec "$0" "$@"`, process.execPath]];
  const child = spawn(
    command,
    [
      ...prefix,
      CLI,
      "broker",
      "--log-format",
      "json",
      "--admin",
      endpoints?.admin ?? any,
      ...args,
      endpoints?.clients ?? any,
      endpoints?.workers ?? any,
      endpoints?.answers ?? any,
    ],
    { stdio: ["ignore", "ignore", "pipe"], ...(env === undefined ? {} : { env: { ...process.env, ...env } }) },
  );
  const events = new Map<string, number>();
  const recent: string[] = [];
  const exited = new Promise<number | string | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  return new Promise((resolve, reject) => {
    let started = false;
    const lines = createInterface({ input: child.stderr ?? process.stdin });
    lines.on("line", (line) => {
      recent.push(line);
      if (recent.length > RECENT_LINES) recent.shift();
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const event = String(record.event);
      events.set(event, (events.get(event) ?? 0) + 1);
      if (event === "listening" && !started) {
        started = true;
        const ep = (name: string): string => String(record[name]);
        const pid = child.pid ?? 0;
        const bound = { clients: ep("clients"), workers: ep("workers"), answers: ep("answers"), admin: ep("admin") };
        resolve({ child, pid, endpoints: bound, events, recent, exited, stop: (grace) => stopChild(child, exited, grace) });
      }
    });
    void exited.then((code) => {
      if (!started) reject(new Error(`broker exited (${String(code)}) before listening: ${recent.join("\n")}`));
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<number | string | null>, graceMs = 0): Promise<number | string | null> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  const force = setTimeout(() => child.kill("SIGKILL"), graceMs + 3000);
  const code = await exited;
  clearTimeout(force);
  return code;
}

/** VmRSS of a process in bytes, from /proc (Linux), or undefined once the process is gone. */
export function residentBytes(pid: number): number | undefined {
  return statusBytes(pid, "VmRSS");
}

/** VmHWM — the peak resident set size since the process started — in bytes, from /proc (Linux). */
export function peakResidentBytes(pid: number): number | undefined {
  return statusBytes(pid, "VmHWM");
}

function statusBytes(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

/** The soft and hard RLIMIT_NOFILE of a running process, from /proc (Linux). */
export function openFileLimits(pid: number): OpenFileLimits {
  const match = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  if (match?.[1] === undefined || match[2] === undefined) throw new Error(`no open-file limits for process ${pid}`);
  return { soft: Number(match[1]), hard: Number(match[2]) };
}
