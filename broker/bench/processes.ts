import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { firstLine } from "./first-line";
import { freePorts } from "./free-ports";

export interface BrokerEndpoints {
  clients: string;
  workers: string;
  answers: string;
  admin: string;
}

const CLI = path.join(__dirname, "..", "src", "cli", "main.js");

/**
 * Children that do not end with their parent's IPC channel (the real `ztb broker`, the prototype): killed when the
 * benchmark exits for any reason, so an interrupted or timed-out run leaves no broker behind.
 */
const orphanable = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of orphanable) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

export function killOnExit(child: ChildProcess): ChildProcess {
  orphanable.add(child);
  child.once("exit", () => orphanable.delete(child));
  return child;
}

/**
 * Starts the real `ztb broker` in a child process, as a user runs it, and waits until it listens: on free ports, or on
 * `at` (a restart on the same endpoints).
 */
export async function startBroker(extra: string[] = [], at?: BrokerEndpoints): Promise<{ child: ChildProcess; endpoints: BrokerEndpoints }> {
  const endpoints = at ?? (await freeEndpoints());
  const child = killOnExit(
    fork(CLI, ["broker", endpoints.clients, endpoints.workers, endpoints.answers, "--admin", endpoints.admin, ...extra], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    }),
  );
  await firstLine(child.stderr); // the "listening on" line
  return { child, endpoints };
}

async function freeEndpoints(): Promise<BrokerEndpoints> {
  const [c, w, a, m] = await freePorts(4);
  return {
    clients: `tcp://127.0.0.1:${c}`,
    workers: `tcp://127.0.0.1:${w}`,
    answers: `tcp://127.0.0.1:${a}`,
    admin: `tcp://127.0.0.1:${m}`,
  };
}

/** Starts the benchmark's worker host (fast raw-socket echo workers) and waits until its sockets exist. */
export async function startWorkers(
  mode: "modern" | "legacy",
  endpoints: BrokerEndpoints,
  count: number,
  capacity: number,
): Promise<ChildProcess> {
  const child = fork(
    path.join(__dirname, "worker-host.js"),
    [mode, endpoints.workers, endpoints.answers, String(count), String(capacity)],
    { stdio: ["ignore", "pipe", "inherit", "ipc"] },
  );
  await firstLine(child.stdout);
  return child;
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/**
 * CPU time (user + system, all threads, libzmq's I/O thread included) a process has used, in seconds, from /proc
 * (Linux; clock ticks of 1/100 s).
 */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Starts the frame-equivalent relay (relay-server.ts) and returns its endpoints. */
export async function startRelay(): Promise<{ child: ChildProcess; endpoints: BrokerEndpoints }> {
  const child = fork(path.join(__dirname, "relay-server.js"), [], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  const [clients = "", workers = ""] = (await firstLine(child.stdout)).split(" ");
  return { child, endpoints: { clients, workers, answers: "", admin: "" } };
}
