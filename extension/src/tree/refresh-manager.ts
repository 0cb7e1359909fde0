/**
 * The one place that decides when the trees re-render (Container Tools' refresh manager):
 * - model changes (admin events) are coalesced for DEBOUNCE_MS, then each VISIBLE view re-renders only what changed;
 *   a hidden view just remembers it is stale and re-renders whole when it becomes visible;
 * - state changes and the manual Refresh command render at once;
 * - a slow poll re-renders visible views (coarse relative times) and, as a fallback when no event arrived for a while,
 *   asks the monitor for a fresh snapshot.
 */
import * as vscode from "vscode";
import type { BrokerSession } from "../broker/session";
import type { MonitorBridge } from "../bridge/monitor-bridge";
import { mergeChanges, type ModelChange } from "../model/broker-model";
import type { NodeProvider } from "./node-provider";

export type RefreshReason = { kind: "model"; change: ModelChange } | { kind: "state" } | { kind: "manual" } | { kind: "poll" };

const DEBOUNCE_MS = 500;
const POLL_MS = 15_000;
const STALE_MS = 30_000;

interface ManagedView {
  provider: NodeProvider;
  view: vscode.TreeView<unknown>;
  stale: boolean;
}

export class RefreshManager implements vscode.Disposable {
  private readonly views: ManagedView[] = [];
  private pending: ModelChange | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly poll: NodeJS.Timeout;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly session: BrokerSession,
    private readonly bridge: MonitorBridge,
  ) {
    this.disposables.push(session.onDidChangeModel((change) => this.request({ kind: "model", change })));
    this.disposables.push(session.onDidChangeState(() => this.request({ kind: "state" })));
    this.poll = setInterval(() => this.request({ kind: "poll" }), POLL_MS);
  }

  add(provider: NodeProvider, view: vscode.TreeView<unknown>): void {
    const managed: ManagedView = { provider, view, stale: false };
    this.views.push(managed);
    this.disposables.push(
      view.onDidChangeVisibility((e) => {
        if (e.visible && managed.stale) {
          managed.stale = false;
          provider.refresh(undefined);
        }
      }),
    );
  }

  request(reason: RefreshReason): void {
    switch (reason.kind) {
      case "model":
        this.pending = this.pending ? mergeChanges(this.pending, reason.change) : reason.change;
        this.debounce ??= setTimeout(() => this.flush(), DEBOUNCE_MS);
        return;
      case "manual":
        this.bridge.resnapshot();
        this.render(undefined);
        return;
      case "state":
        this.render(undefined);
        return;
      case "poll":
        if (this.session.hasBroker && Date.now() - this.session.lastUpdateAt > STALE_MS) this.bridge.resnapshot();
        this.render(undefined);
        return;
    }
  }

  dispose(): void {
    clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    for (const d of this.disposables) d.dispose();
  }

  private flush(): void {
    const change = this.pending;
    this.pending = undefined;
    this.debounce = undefined;
    if (change) this.render(change);
  }

  /** `undefined` = everything. */
  private render(change: ModelChange | undefined): void {
    if (change === undefined) {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = undefined;
      this.pending = undefined;
    }
    for (const managed of this.views) {
      if (!managed.view.visible) {
        managed.stale = true;
        continue;
      }
      managed.provider.refresh(change);
    }
  }
}
