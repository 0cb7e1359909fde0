/**
 * Sending a request from the editor: progress while waiting (cancellable: cancelling sends CANCEL through the monitor
 * child, and the broker's failed/cancelled reply is shown), then the reply beside the editor.
 */
import * as vscode from "vscode";
import type { ReplyDocument } from "../api";
import type { MonitorBridge } from "../bridge/monitor-bridge";
import type { BrokerSession } from "../broker/session";
import { RequestHistory, type HistoryEntry } from "./history";
import type { ReplyDocuments } from "./reply-provider";
import { formatReply, replyDocumentName } from "./reply-document";
import type { RequestOptions } from "./request-file";
import { readSettings } from "../settings";

export interface OutgoingRequest {
  title: string;
  frames: Uint8Array[];
  options: RequestOptions;
}

const HISTORY_KEY = "ztb.requestHistory";
/** Reply documents whose request is remembered for Send Again / Copy as ztb client send (as many as ReplyDocuments). */
const MAX_REMEMBERED = 50;

export class RequestSender {
  private last: ReplyDocument | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidSend = this.changed.event;
  readonly history: RequestHistory;
  /** The request behind each reply document (by URI string). */
  private readonly requests = new Map<string, OutgoingRequest>();

  constructor(
    private readonly session: BrokerSession,
    private readonly bridge: MonitorBridge,
    private readonly documents: ReplyDocuments,
    private readonly state: vscode.Memento,
  ) {
    this.history = RequestHistory.fromJSON(state.get<unknown>(HISTORY_KEY));
  }

  get lastReply(): ReplyDocument | undefined {
    return this.last;
  }

  /** The request a reply document answers, if it came from Send Request (not Show Reply). */
  requestFor(uri: vscode.Uri): OutgoingRequest | undefined {
    return this.requests.get(uri.toString());
  }

  async send(request: OutgoingRequest): Promise<ReplyDocument | undefined> {
    if (!this.session.hasBroker) {
      const choice = await vscode.window.showErrorMessage(
        "ZeroMQ Broker: no broker to send to.",
        "Start Broker",
        "Attach to Running Broker…",
      );
      if (choice === "Start Broker") void vscode.commands.executeCommand("ztb.startBroker");
      if (choice === "Attach to Running Broker…") void vscode.commands.executeCommand("ztb.attachBroker");
      return undefined;
    }
    const entry = this.history.add({ title: request.title, frames: request.frames, options: request.options, sentAt: Date.now() });
    void this.state.update(HISTORY_KEY, this.history.toJSON());
    const endpoint = this.session.clientsEndpoint();
    const curve = this.session.curve;
    const deadline = readSettings().requestDeadline;
    const spec = {
      endpoint,
      frames: request.frames.map((f) => Buffer.from(f).toString("base64")),
      ...request.options,
      ...(deadline === undefined ? {} : { deadline }),
      ...(curve ? { curve } : {}),
    };
    try {
      const outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `ZeroMQ Broker: waiting for the reply to ${request.title}`, cancellable: true },
        (_progress, token) => this.bridge.request(spec, token),
      );
      const text = formatReply({ title: request.title, detail: outcome.detail, frames: outcome.frames, roundTrip: outcome.roundTrip });
      const uri = this.documents.create(replyDocumentName(request.title), text, "sent");
      this.remember(uri, request);
      const d = outcome.detail;
      this.settle(entry, d.status);
      if (d.task !== undefined) this.session.model.setTitle(d.task, request.title);
      this.last = {
        uri: uri.toString(),
        title: request.title,
        status: d.status,
        ...(d.reason !== undefined ? { reason: d.reason } : {}),
        ...(d.message !== undefined ? { message: d.message } : {}),
        ...(d.task !== undefined ? { task: d.task } : {}),
        attempts: d.attempts,
        ...(d.worker !== undefined ? { worker: d.worker } : {}),
        elapsed: d.elapsed,
        roundTrip: outcome.roundTrip,
        frames: outcome.frames,
        text,
      };
      this.changed.fire();
      await this.documents.show(uri);
      return this.last;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(`ZeroMQ Broker: the request to ${endpoint} failed: ${message}`);
      return undefined;
    }
  }

  dispose(): void {
    this.changed.dispose();
  }

  private remember(uri: vscode.Uri, request: OutgoingRequest): void {
    this.requests.set(uri.toString(), request);
    while (this.requests.size > MAX_REMEMBERED) {
      const oldest = this.requests.keys().next();
      if (oldest.done === true) break;
      this.requests.delete(oldest.value);
    }
  }

  private settle(entry: HistoryEntry, status: "succeeded" | "failed"): void {
    entry.status = status;
    void this.state.update(HISTORY_KEY, this.history.toJSON());
  }
}
