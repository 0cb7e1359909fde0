import * as vscode from "vscode";
import type { ReplyDocument } from "../../api";
import type { HistoryEntry } from "../../requests/history";
import { coarseDuration } from "../../model/relative-time";
import type { Services } from "../services";

/** Rerun Last Request (Ctrl+Alt+L, as REST Client): sends the last request again exactly as it was sent. */
export async function rerunLastRequest(s: Services): Promise<ReplyDocument | undefined> {
  const last = s.sender.history.last();
  if (!last) {
    void vscode.window.showInformationMessage("ZeroMQ Broker: no request sent yet in this workspace.");
    return undefined;
  }
  return resend(s, last);
}

/** Request History…: the requests sent from this workspace, newest first; the one picked is sent again. */
export async function showRequestHistory(s: Services): Promise<ReplyDocument | undefined> {
  const entries = s.sender.history.entries();
  if (entries.length === 0) {
    void vscode.window.showInformationMessage("ZeroMQ Broker: no request sent yet in this workspace.");
    return undefined;
  }
  const now = Date.now();
  const picked = await vscode.window.showQuickPick(
    entries.map((entry) => ({
      label: `${entry.status === "failed" ? "$(error)" : entry.status === "succeeded" ? "$(pass)" : "$(circle-outline)"} ${entry.title}`,
      description: `${entry.options.service ?? "default"} · ${entry.frames.length} frame${entry.frames.length === 1 ? "" : "s"} · ${coarseDuration(now - entry.sentAt)} ago`,
      entry,
    })),
    { placeHolder: "Send a request again", matchOnDescription: true },
  );
  return picked ? resend(s, picked.entry) : undefined;
}

function resend(s: Services, entry: HistoryEntry): Promise<ReplyDocument | undefined> {
  return s.sender.send({ title: entry.title, frames: entry.frames, options: entry.options });
}
