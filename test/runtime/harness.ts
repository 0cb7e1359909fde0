/** Shared set-up of the runtime tests: a real BrokerServer on ephemeral loopback ports, the CLI as a child process. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { BrokerServer, type EndpointSet } from "../../broker/src/server/broker-server";
import { Logger } from "../../broker/src/server/logger";
import type { WorkerStatus } from "../../broker/src/worker";
import { collectOutput, type CliRun } from "./child-output";

export const LOOPBACK: EndpointSet = {
  clients: "tcp://127.0.0.1:*",
  workers: "tcp://127.0.0.1:*",
  answers: "tcp://127.0.0.1:*",
  admin: null,
};

export interface BrokerLimits {
  tries?: number | null;
  timeout?: number | null;
  /** --deadline, ms. */
  deadline?: number | null;
  heartbeat?: number;
  endpoints?: EndpointSet;
}

export async function startBroker(limits: BrokerLimits = {}): Promise<{ server: BrokerServer; endpoints: EndpointSet }> {
  const server = new BrokerServer();
  const endpoints = await server.start({
    endpoints: limits.endpoints ?? LOOPBACK,
    tries: limits.tries ?? null,
    timeout: limits.timeout ?? null,
    deadline: limits.deadline ?? null,
    heartbeat: limits.heartbeat ?? 100,
    maxQueue: null,
    history: 100,
    services: [],
    maxMessage: 1024 * 1024,
    version: "test",
    // The broker's expected warnings (task-failed, worker-lost) would only clutter the test report.
    logger: new Logger("error", "text", { write: () => true }),
  });
  return { server, endpoints };
}

/** Resolves with the first status of `type` the emitter reports (from now on). */
export function nextStatus<T extends WorkerStatus["type"]>(
  emitter: { on(event: "status", l: (s: WorkerStatus) => void): unknown; off(event: "status", l: (s: WorkerStatus) => void): unknown },
  type: T,
): Promise<Extract<WorkerStatus, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (status: WorkerStatus): void => {
      if (status.type !== type) return;
      emitter.off("status", listener);
      resolve(status as Extract<WorkerStatus, { type: T }>);
    };
    emitter.on("status", listener);
  });
}

export function text(frames: readonly Uint8Array[]): string[] {
  return frames.map((frame) => Buffer.from(frame).toString("utf8"));
}

/** A promise with its resolve function, for handlers the test releases. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const CLI = join(__dirname, "../../broker/src/cli/main.js");

export type { CliRun };

/** Runs `ztb ARGS` to completion. */
export function runCli(args: string[], input?: string): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const run = collectOutput(child);
  child.stdin.end(input ?? "");
  return run;
}

/** Starts `ztb ARGS` in the background; `line(re)` waits for a stdout line matching `re`. */
export function spawnCli(args: string[]): { child: ChildProcess; line(pattern: RegExp): Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let buffered = "";
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const seen: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      seen.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      newline = buffered.indexOf("\n");
    }
  });
  child.stderr?.resume();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    line: (pattern) => {
      const found = seen.find((line) => pattern.test(line));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}
