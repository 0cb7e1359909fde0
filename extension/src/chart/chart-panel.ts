/**
 * The live chart (Broker view → "Show Live Chart"): a webview panel with tasks/s and queue depth per service over the
 * last minutes. The extension samples all the time (model/rates.ts, fed by the admin events the monitor receives), so
 * an opened chart shows the minutes before it too; the panel gets the window once a second while visible.
 *
 * CSP: no inline script; the two scripts carry a nonce, uPlot's CSS goes into a nonce'd <style> (uPlot sets only
 * element styles from script, which CSP allows). Nothing is loaded from outside the extension's dist folder.
 */
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import type { BrokerSession } from "../broker/session";
import { queueDepths, RateSeries } from "../model/rates";
import type { FromWebview, ToWebview } from "./messages";

const PUSH_MS = 1000;
/** Counting queued tasks per service walks the model: at most this often. */
const QUEUE_SAMPLE_MS = 250;

export interface ChartState {
  open: boolean;
  /** What the webview said it drew last. */
  rendered?: Extract<FromWebview, { type: "rendered" }>;
}

export class ChartPanel implements vscode.Disposable {
  private readonly rates = new RateSeries(300);
  private panel: vscode.WebviewPanel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastQueueSample = 0;
  private rendered: ChartState["rendered"];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly session: BrokerSession,
    private readonly distUri: vscode.Uri,
  ) {
    this.disposables.push(
      session.onDidChangeModel(() => this.sample()),
      session.onDidChangeState((state) => {
        if (state === "starting" || state === "stopped") this.rates.reset();
      }),
    );
  }

  get state(): ChartState {
    return { open: this.panel !== undefined, ...(this.rendered ? { rendered: this.rendered } : {}) };
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel("ztb.chart", "ZeroMQ Broker: Live Chart", vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [this.distUri],
      retainContextWhenHidden: false,
    });
    this.panel = panel;
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m), undefined, this.disposables);
    panel.onDidChangeViewState(() => this.push(), undefined, this.disposables);
    panel.onDidDispose(() => {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      this.panel = undefined;
      this.rendered = undefined;
      this.changed.fire();
    });
    this.timer = setInterval(() => this.push(), PUSH_MS);
    this.changed.fire();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }

  private sample(): void {
    const counters = this.session.model.counters();
    if (!counters) return;
    const now = Date.now();
    const sampleQueues = now - this.lastQueueSample >= QUEUE_SAMPLE_MS;
    if (sampleQueues) this.lastQueueSample = now;
    this.rates.observe(now, counters, sampleQueues ? queueDepths(this.session.model.tasksIn("queued")) : undefined);
  }

  private push(): void {
    if (!this.panel?.visible) return;
    const message: ToWebview = { type: "series", series: this.rates.series(Date.now()) };
    void this.panel.webview.postMessage(message);
  }

  private onMessage(message: FromWebview): void {
    if (message.type === "ready") this.push();
    else if (message.type === "rendered") {
      this.rendered = message;
      this.changed.fire();
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString("base64");
    const src = (file: string): string => webview.asWebviewUri(vscode.Uri.joinPath(this.distUri, file)).toString();
    const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join("; ");
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">
  body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); padding: 0 12px; }
  h2 { font-size: 1.1em; font-weight: 600; margin: 14px 0 4px; }
  #summary { color: var(--vscode-descriptionForeground); margin: 6px 0 10px; }
  .u-legend { color: var(--vscode-foreground); }
</style>
<title>ZeroMQ Broker: Live Chart</title>
</head>
<body>
<div id="summary">waiting for the broker's events…</div>
<h2>Tasks per second</h2>
<div id="rates"></div>
<h2>Queue depth per service</h2>
<div id="queues"></div>
<script nonce="${nonce}" src="${src("uplot.iife.min.js")}"></script>
<script nonce="${nonce}" src="${src("chart.js")}"></script>
</body>
</html>`;
  }
}
