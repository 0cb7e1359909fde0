/** Status bar: broker state, workers and queued tasks; a click focuses the ZeroMQ Broker sidebar. */
import * as vscode from "vscode";
import type { BrokerSession } from "./broker/session";

const ICON: Record<string, string> = {
  stopped: "$(circle-slash)",
  starting: "$(loading~spin)",
  running: "$(radio-tower)",
  attached: "$(plug)",
  disconnected: "$(debug-disconnect)",
  error: "$(error)",
};

export function statusBarText(state: string, workers: number | undefined, queued: number | undefined): string {
  const base = `${ICON[state] ?? ""} ztb ${state}`;
  if (workers === undefined || queued === undefined) return base;
  return `${base} · ${workers} worker${workers === 1 ? "" : "s"} · ${queued} queued`;
}

export class BrokerStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("ztb.status", vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly session: BrokerSession) {
    this.item.name = "ZeroMQ Broker";
    this.item.command = "workbench.view.extension.ztb";
    this.disposables.push(session.onDidChangeModel(() => this.update()), session.onDidChangeState(() => this.update()));
    this.update();
    this.item.show();
  }

  private update(): void {
    const counters = this.session.model.counters();
    const live = this.session.state === "running" || this.session.state === "attached";
    this.item.text = statusBarText(this.session.state, live ? counters?.workers : undefined, live ? counters?.queued : undefined);
    this.item.tooltip = `ZeroMQ Broker: ${this.session.state}${this.session.admin ? ` (${this.session.admin})` : ""}${
      this.session.lastError ? `\n${this.session.lastError}` : ""
    }\nClick to show the sidebar`;
    this.item.backgroundColor =
      this.session.state === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.item.dispose();
  }
}
