/**
 * A `ztb` child (broker or test worker): spawned with the extension host's runtime, its stderr/stdout lines parsed and
 * written to the log channel, its last error line kept for the notification when it dies.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as readline from "node:readline";
import type * as vscode from "vscode";
import { parseLogLine, type Launch } from "./launch";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last error-level line it wrote (or its spawn error). */
  lastError: string | undefined;
  /** True when stop() asked for it. */
  expected: boolean;
}

export class ZtbChild {
  private readonly child: ChildProcess;
  private lastError: string | undefined;
  private stopping = false;
  private exited = false;
  readonly exit: Promise<ChildExit>;

  /** `workerName`: how the log names a worker the broker names by id (see parseLogLine). */
  constructor(launch: Launch, label: string, log: vscode.LogOutputChannel, workerName?: (id: string) => string) {
    this.child = spawn(launch.command, launch.args, {
      env: { ...process.env, ...launch.env },
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    const onLine = (line: string): void => {
      if (line.trim() === "") return;
      const parsed = parseLogLine(line, workerName);
      if (parsed.level === "error") this.lastError = parsed.text;
      log[parsed.level](`[${label}] ${parsed.text}`);
    };
    if (this.child.stderr) readline.createInterface({ input: this.child.stderr }).on("line", onLine);
    if (this.child.stdout) readline.createInterface({ input: this.child.stdout }).on("line", (line) => log.trace(`[${label}] ${line}`));
    this.exit = new Promise<ChildExit>((resolve) => {
      this.child.once("error", (error) => {
        this.lastError = `cannot run ${launch.command}: ${error.message}`;
        log.error(`[${label}] ${this.lastError}`);
        this.exited = true;
        resolve({ code: null, signal: null, lastError: this.lastError, expected: this.stopping });
      });
      this.child.once("exit", (code, signal) => {
        this.exited = true;
        log.info(`[${label}] exited (${signal ?? `code ${code}`})`);
        // Let readline deliver the last stderr lines before reporting.
        setImmediate(() => resolve({ code, signal, lastError: this.lastError, expected: this.stopping }));
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** SIGTERM (the broker shuts down gracefully), SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 3000): Promise<ChildExit> {
    this.stopping = true;
    if (!this.exited) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
      await this.exit;
      clearTimeout(timer);
    }
    return this.exit;
  }
}
