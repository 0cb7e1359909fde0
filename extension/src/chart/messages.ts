/** Messages between the chart panel (extension host) and its webview script. Types only. */
import type { ChartSeries } from "../model/rates";

export type ToWebview = { type: "series"; series: ChartSeries };

export type FromWebview =
  | { type: "ready" }
  /** After each draw: what it drew, so tests (and the log) can tell a live chart from an empty one. */
  | { type: "rendered"; points: number; maxRate: number; services: string[] };
