/**
 * Entry point: builds the parts, registers every command from the flat table (commands/table.ts), views, CodeLens,
 * reply documents and status bar, pushes every registration into `context.subscriptions`, and returns the API
 * (api.ts). Nothing here loads zeromq: the broker, the monitor and test workers are child processes.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import type { ViewId, ViewNode, ZtbExtensionApi } from "./api";
import { MonitorBridge } from "./bridge/monitor-bridge";
import { BrokerSession } from "./broker/session";
import { COMMAND_IDS, CONTEXT_KEYS } from "./commands/command-ids";
import type { Services } from "./commands/services";
import { COMMAND_TABLE } from "./commands/table";
import { ChartPanel } from "./chart/chart-panel";
import { RequestCodeLensProvider, RequestDiagnostics } from "./requests/codelens";
import { RequestEnvironments } from "./requests/environments";
import { RequestCompletions, RequestOutline, RequestQuickFixes, ZTB_SELECTOR, type LanguageContext } from "./requests/language-features";
import { REPLY_SCHEME, ReplyDocuments } from "./requests/reply-provider";
import { RequestSender } from "./requests/send";
import { BrokerStatusBar } from "./status-bar";
import { TestWorkers } from "./test-workers";
import type { DumpNode, NodeProvider } from "./tree/node-provider";
import { BrokerProvider, TasksProvider, WorkersProvider } from "./tree/providers";
import { RefreshManager } from "./tree/refresh-manager";
import { formatTaskFilter } from "./model/task-filter";

let running: { session: BrokerSession; testWorkers: TestWorkers } | undefined;

export function activate(context: vscode.ExtensionContext): ZtbExtensionApi {
  const subs = context.subscriptions;
  const log = vscode.window.createOutputChannel("ZeroMQ Broker", { log: true });
  const bridge = new MonitorBridge(path.join(context.extensionPath, "extension", "dist", "monitor-child.js"), log);
  const session = new BrokerSession(bridge, context.extensionPath, log);
  const documents = new ReplyDocuments();
  const sender = new RequestSender(session, bridge, documents, context.workspaceState);
  const environments = new RequestEnvironments(context.workspaceState);
  const chart = new ChartPanel(session, vscode.Uri.joinPath(context.extensionUri, "extension", "dist"));
  const testWorkers = new TestWorkers(session, context.extensionPath, log);
  const refresh = new RefreshManager(session, bridge);
  const providers: Record<ViewId, NodeProvider> = {
    "ztb.broker": new BrokerProvider(session),
    "ztb.workers": new WorkersProvider(session),
    "ztb.tasks": new TasksProvider(session, bridge),
  };
  subs.push(log, bridge, session, documents, sender, environments, chart, testWorkers, refresh, ...Object.values(providers));

  const tasks = providers["ztb.tasks"] as TasksProvider;
  for (const [id, provider] of Object.entries(providers)) {
    const isTasks = id === "ztb.tasks";
    const view = vscode.window.createTreeView(id, { treeDataProvider: provider, showCollapseAll: isTasks, canSelectMany: isTasks });
    refresh.add(provider, view);
    subs.push(view);
    if (isTasks) {
      subs.push(
        tasks.onDidChangeFilter((filter) => {
          view.description = filter ? `filter: ${formatTaskFilter(filter)}` : undefined;
          void vscode.commands.executeCommand("setContext", CONTEXT_KEYS.tasksFiltered, filter !== undefined);
        }),
      );
    }
  }

  const services: Services = { session, bridge, sender, documents, testWorkers, tasks, refresh, log, environments, chart };
  for (const id of COMMAND_IDS) {
    const handler = COMMAND_TABLE[id];
    subs.push(vscode.commands.registerCommand(id, (...args: unknown[]) => handler(services, ...args)));
  }

  const language: LanguageContext & { connected(): boolean } = {
    environment: () => environments.values(),
    services: () => [...new Set(session.model.workers().flatMap((w) => w.services))].sort(),
    connected: () => (session.state === "running" || session.state === "attached") && session.model.hasSnapshot,
  };
  const diagnostics = new RequestDiagnostics(language);
  const codeLenses = new RequestCodeLensProvider(language);
  const outline = new RequestOutline(language);
  let recheck: NodeJS.Timeout | undefined;
  const recheckSoon = (): void => {
    recheck ??= setTimeout(() => {
      recheck = undefined;
      diagnostics.recheck();
    }, 500);
  };
  subs.push(
    vscode.workspace.registerTextDocumentContentProvider(REPLY_SCHEME, documents),
    vscode.languages.registerCodeLensProvider(ZTB_SELECTOR, codeLenses),
    vscode.languages.registerCompletionItemProvider(ZTB_SELECTOR, new RequestCompletions(language), "@", "{"),
    vscode.languages.registerCodeActionsProvider(ZTB_SELECTOR, new RequestQuickFixes(language), RequestQuickFixes.metadata),
    vscode.languages.registerDocumentSymbolProvider(ZTB_SELECTOR, outline),
    vscode.languages.registerFoldingRangeProvider(ZTB_SELECTOR, outline),
    diagnostics,
    environments.onDidChange(() => {
      diagnostics.recheck();
      codeLenses.refresh();
    }),
    // Which services live workers serve changes with the workers (and the connection): warnings follow, debounced.
    session.onDidChangeModel((change) => {
      if (change.workers === "all" || change.workers.size > 0) recheckSoon();
    }),
    session.onDidChangeState(() => recheckSoon()),
    { dispose: () => recheck && clearTimeout(recheck) },
    new BrokerStatusBar(session),
  );

  const changed = new vscode.EventEmitter<void>();
  const setContext = (key: string, value: unknown): void => void vscode.commands.executeCommand("setContext", key, value);
  const publishState = (): void => {
    setContext(CONTEXT_KEYS.state, session.state);
    setContext(CONTEXT_KEYS.hasBroker, session.hasBroker);
    setContext(CONTEXT_KEYS.ownsBroker, session.owned);
  };
  publishState();
  setContext(CONTEXT_KEYS.testWorkers, false);
  subs.push(
    changed,
    session.onDidChangeState(() => {
      publishState();
      changed.fire();
    }),
    session.onDidChangeModel(() => changed.fire()),
    testWorkers.onDidChange((n) => {
      setContext(CONTEXT_KEYS.testWorkers, n > 0);
      changed.fire();
    }),
    sender.onDidSend(() => changed.fire()),
    chart.onDidChange(() => changed.fire()),
    tasks.onDidChangeFilter(() => changed.fire()),
  );

  running = { session, testWorkers };
  log.info(`activated (${process.platform}-${process.arch}, ${process.execPath})`);

  return {
    apiVersion: 1,
    state: () => session.state,
    broker: () => session.model.broker(),
    workers: () => session.model.workers(),
    tasks: () => session.model.tasks(),
    counters: () => session.model.counters(),
    lastError: () => session.lastError,
    lastReply: () => sender.lastReply,
    testWorkers: () => testWorkers.count,
    viewNodes: (view: ViewId): ViewNode[] => providers[view].dump().map(toViewNode),
    chart: () => chart.state,
    environment: () => environments.current,
    history: () => sender.history.entries().map((e) => ({ title: e.title, sentAt: e.sentAt, ...(e.status ? { status: e.status } : {}) })),
    onDidChange: changed.event,
  };
}

function toViewNode(node: DumpNode): ViewNode {
  const out: ViewNode = { id: node.id, label: node.label, contextValue: node.contextValue };
  if (node.description !== undefined) out.description = node.description;
  if (node.tooltip !== undefined) out.tooltip = node.tooltip;
  if (node.taskId !== undefined) out.taskId = node.taskId;
  if (node.workerId !== undefined) out.workerId = node.workerId;
  if (node.children) out.children = node.children.map(toViewNode);
  return out;
}

/** Stops the broker and test workers this window started (VS Code waits for the promise, briefly). */
export async function deactivate(): Promise<void> {
  const parts = running;
  running = undefined;
  if (!parts) return;
  await Promise.all([parts.testWorkers.stop(), parts.session.shutdown()]);
}
