/** "Start Test Workers…": `ztb worker` echo workers as child processes, so a broker can be tried without writing one. */
import * as path from "node:path";
import * as vscode from "vscode";
import type { BrokerSession } from "./broker/session";
import { ZtbChild } from "./broker/child-process";
import { workerArgs, ztbLaunch } from "./broker/launch";
import { readSettings } from "./settings";

export function validateCount(text: string): string | undefined {
  return /^\d+$/.test(text.trim()) && Number(text) >= 1 && Number(text) <= 32 ? undefined : "A whole number from 1 to 32";
}

export function validateDropRate(text: string): string | undefined {
  const value = Number(text.trim().replace(/%$/, ""));
  return text.trim() !== "" && value >= 0 && value <= 100 ? undefined : "A percentage from 0 to 100 (e.g. 10 drops one task in ten)";
}

export class TestWorkers implements vscode.Disposable {
  private readonly children: ZtbChild[] = [];
  private nextIndex = 1;
  private readonly changed = new vscode.EventEmitter<number>();
  /** Fires with the number of running test workers. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly session: BrokerSession,
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get count(): number {
    return this.children.length;
  }

  /** Starts `count` workers dropping `dropPercent` % of their tasks (unanswered, so the broker's retry shows). */
  start(count: number, dropPercent: number): void {
    const { workers, answers } = this.session.workersEndpoints();
    const cli = path.join(this.extensionPath, "out", "broker", "src", "cli", "main.js");
    for (let i = 0; i < count; i++) {
      const index = this.nextIndex++;
      const launch = ztbLaunch(process.execPath, cli, readSettings().ztbPath, workerArgs(workers, answers, dropPercent / 100, index, this.session.curve));
      const child = new ZtbChild(launch, `test-${index}`, this.log);
      this.children.push(child);
      void child.exit.then((exit) => {
        const at = this.children.indexOf(child);
        if (at >= 0) this.children.splice(at, 1);
        this.changed.fire(this.children.length);
        if (!exit.expected) {
          void vscode.window.showWarningMessage(`ZeroMQ Broker: test worker test-${index} stopped: ${exit.lastError ?? `code ${exit.code}`}`);
        }
      });
    }
    this.changed.fire(this.children.length);
  }

  async stop(): Promise<void> {
    const all = this.children.splice(0);
    this.changed.fire(0);
    await Promise.all(all.map((c) => c.stop(1000)));
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
  }
}
