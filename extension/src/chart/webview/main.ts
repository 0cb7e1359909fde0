/// <reference lib="dom" />
/**
 * The live chart's webview script (bundled by esbuild into extension/dist/chart.js; uPlot is the global of
 * extension/dist/uplot.iife.min.js, loaded before it). Two charts: tasks per second and queue depth per service.
 * Colours come from the theme's CSS variables, and the charts are made again when the theme changes (VS Code sets the
 * body's class).
 */
import type uPlot from "uplot/dist/uPlot";
import type { FromWebview, ToWebview } from "../messages";
import type { ChartSeries } from "../../model/rates";

declare const __UPLOT_CSS__: string;
declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void };
declare global {
  interface Window {
    uPlot: typeof uPlot;
  }
}

const vscode = acquireVsCodeApi();
const nonce = document.querySelector<HTMLScriptElement>("script[nonce]")?.nonce ?? "";
const style = document.createElement("style");
style.nonce = nonce;
style.textContent = __UPLOT_CSS__;
document.head.appendChild(style);

const ratesBox = document.getElementById("rates") as HTMLElement;
const queuesBox = document.getElementById("queues") as HTMLElement;
const summary = document.getElementById("summary") as HTMLElement;
let rates: uPlot | undefined;
let queues: uPlot | undefined;
let queueServices = "";
let last: ChartSeries | undefined;

function cssColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function axes(): uPlot.Axis[] {
  const stroke = cssColor("--vscode-foreground", "#ccc");
  const grid = { stroke: cssColor("--vscode-editorWidget-border", "#8884"), width: 1 };
  return [
    { stroke, grid, ticks: grid },
    { stroke, grid, ticks: grid, size: 50 },
  ];
}

function width(box: HTMLElement): number {
  return Math.max(300, box.clientWidth - 8);
}

function makeRates(): uPlot {
  const series: uPlot.Series[] = [
    {},
    { label: "succeeded/s", stroke: cssColor("--vscode-charts-green", "#89d185"), width: 2 },
    { label: "failed/s", stroke: cssColor("--vscode-charts-red", "#f14c4c"), width: 2 },
    { label: "retried/s", stroke: cssColor("--vscode-charts-yellow", "#cca700"), width: 2 },
  ];
  return new window.uPlot({ width: width(ratesBox), height: 220, series, axes: axes(), scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } } }, [[], [], [], []], ratesBox);
}

const PALETTE = ["--vscode-charts-blue", "--vscode-charts-purple", "--vscode-charts-orange", "--vscode-charts-green", "--vscode-charts-red", "--vscode-charts-yellow"];

function makeQueues(services: string[]): uPlot {
  const series: uPlot.Series[] = [{}, ...services.map((service, i) => ({ label: service, stroke: cssColor(PALETTE[i % PALETTE.length] ?? "", "#3794ff"), width: 2 }))];
  const data: uPlot.AlignedData = [[], ...services.map(() => [])];
  return new window.uPlot({ width: width(queuesBox), height: 220, series, axes: axes(), scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } } }, data, queuesBox);
}

function draw(series: ChartSeries): void {
  last = series;
  const services = series.queues.map((q) => q.service);
  if (!rates) rates = makeRates();
  if (!queues || queueServices !== services.join("\n")) {
    queues?.destroy();
    queues = makeQueues(services);
    queueServices = services.join("\n");
  }
  rates.setData([series.times, series.succeeded, series.failed, series.retried]);
  queues.setData([series.times, ...series.queues.map((q) => q.depth)]);
  const tail = (xs: number[]): number => xs.slice(-5).reduce((a, b) => a + b, 0) / Math.max(1, Math.min(5, xs.length));
  const maxRate = Math.max(0, ...series.succeeded, ...series.failed, ...series.retried);
  summary.textContent =
    `last 5 s: ${tail(series.succeeded).toFixed(1)} succeeded/s · ${tail(series.failed).toFixed(1)} failed/s · ${tail(series.retried).toFixed(1)} retried/s` +
    ` · queued ${series.queues.map((q) => `${q.service} ${q.depth.at(-1) ?? 0}`).join(", ") || "0"}`;
  vscode.postMessage({ type: "rendered", points: series.times.length, maxRate, services });
}

function rebuild(): void {
  rates?.destroy();
  queues?.destroy();
  rates = undefined;
  queues = undefined;
  if (last) draw(last);
}

window.addEventListener("message", (event: MessageEvent<ToWebview>) => {
  if (event.data.type === "series") draw(event.data.series);
});
new MutationObserver(rebuild).observe(document.body, { attributes: true, attributeFilter: ["class"] });
window.addEventListener("resize", () => {
  rates?.setSize({ width: width(ratesBox), height: 220 });
  queues?.setSize({ width: width(queuesBox), height: 220 });
});
vscode.postMessage({ type: "ready" });
