/** What command handlers get: the extension's parts, passed explicitly (no global state). */
import type * as vscode from "vscode";
import type { MonitorBridge } from "../bridge/monitor-bridge";
import type { BrokerSession } from "../broker/session";
import type { ReplyDocuments } from "../requests/reply-provider";
import type { RequestSender } from "../requests/send";
import type { TestWorkers } from "../test-workers";
import type { RefreshManager } from "../tree/refresh-manager";
import type { ChartPanel } from "../chart/chart-panel";
import type { RequestEnvironments } from "../requests/environments";
import type { TasksProvider } from "../tree/providers";

export interface Services {
  session: BrokerSession;
  bridge: MonitorBridge;
  sender: RequestSender;
  documents: ReplyDocuments;
  testWorkers: TestWorkers;
  tasks: TasksProvider;
  refresh: RefreshManager;
  log: vscode.LogOutputChannel;
  environments: RequestEnvironments;
  chart: ChartPanel;
}

export type CommandHandler = (services: Services, ...args: unknown[]) => unknown;
