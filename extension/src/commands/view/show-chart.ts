import type { Services } from "../services";

/** Show Live Chart (Broker view title): tasks/s and queue depth per service (chart/chart-panel.ts). */
export function showChart(s: Services): void {
  s.chart.show();
}
