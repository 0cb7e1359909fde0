/**
 * The object `activate()` returns: what tests and other extensions may rely on
 * (`vscode.extensions.getExtension("ztb.ztb").exports`).
 *
 * Only types live here (the `vscode` import is type-only), so pure code and unit tests can import it.
 */
import type * as vscode from "vscode";
import type { BrokerInfo, Counters, FrameView, TaskView, WorkerView } from "../../broker/src/protocol/messages";

/**
 * The extension's connection state, also published as the `ztb.state` context key.
 * - `stopped`: no broker started and none attached.
 * - `starting`: the extension spawned `ztb broker` or is attaching and has not received the first SNAPSHOT yet.
 * - `running`: the extension's own broker child is up and the monitor has a snapshot.
 * - `attached`: monitoring a broker someone else started (Attach to Running Broker…).
 * - `disconnected`: the monitor lost the admin endpoint (no ACK/EVENT within the lease); it keeps re-attaching.
 * - `error`: the extension's broker child exited or could not bind; `lastError()` holds the log line.
 */
export type ConnectionState = "stopped" | "starting" | "running" | "attached" | "disconnected" | "error";

/** A reply as shown in the read-only `ztb-reply:` document (requests/reply-document.ts formats `text`). */
export interface ReplyDocument {
  /** The `ztb-reply:` URI of the document that shows it. */
  uri: string;
  /** Where the request came from, e.g. "requests.ztb#2 Say hello" or "Selection". */
  title: string;
  status: "succeeded" | "failed";
  reason?: string;
  message?: string;
  /** Broker task id when the broker reported it. */
  task?: string;
  attempts: number;
  worker?: string;
  /** Broker-side elapsed ms (REPLY `elapsed`). */
  elapsed: number;
  /** Round trip measured by the sender, ms. */
  roundTrip: number;
  frames: FrameView[];
  /** The document text exactly as shown. */
  text: string;
}

/** A row of a ztb view as the tree shows it (label, description, contextValue), with its children when it has any. */
export interface ViewNode {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  contextValue: string;
  /** Task or worker id for task and worker rows (what tree commands accept as their argument). */
  taskId?: string;
  workerId?: string;
  children?: ViewNode[];
}

export type ViewId = "ztb.broker" | "ztb.workers" | "ztb.tasks";

export interface ZtbExtensionApi {
  /** Bumped on incompatible changes of this interface. */
  readonly apiVersion: 1;
  state(): ConnectionState;
  /** The broker's own description from the last SNAPSHOT, undefined when not connected. */
  broker(): BrokerInfo | undefined;
  workers(): WorkerView[];
  /** Tasks known to the extension (bounded by `ztb.historySize`), newest first. */
  tasks(): TaskView[];
  counters(): Counters | undefined;
  /** The last error shown to the user (e.g. the broker's log line when it failed to bind). */
  lastError(): string | undefined;
  /** The reply of the last request sent from the editor. */
  lastReply(): ReplyDocument | undefined;
  /** Number of test worker processes the extension is running. */
  testWorkers(): number;
  /** The rows a view shows right now (computed from the model as the view would render them, all groups expanded). */
  viewNodes(view: ViewId): ViewNode[];
  /** The live chart panel: open or not, and what its webview last said it drew. */
  chart(): { open: boolean; rendered?: { points: number; maxRate: number; services: string[] } };
  /** The request-file environment chosen in the status bar (undefined = none). */
  environment(): string | undefined;
  /** Requests sent from the editor, newest first (Rerun Last sends the first). */
  history(): { title: string; sentAt: number; status?: "succeeded" | "failed" }[];
  /** Fires after any of the above changed (model updates are coalesced per message, not debounced). */
  readonly onDidChange: vscode.Event<void>;
}
