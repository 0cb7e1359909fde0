/**
 * The reply editor's title buttons (REST Client's): Send Again, Save Reply As…, Copy as `ztb client send`. They act on
 * the reply document they are shown on (the URI argument), else the active editor's.
 */
import * as vscode from "vscode";
import type { ReplyDocument } from "../../api";
import { cliCommand } from "../../requests/cli-command";
import type { OutgoingRequest } from "../../requests/send";
import type { Services } from "../services";

function replyUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === "string") return vscode.Uri.parse(arg);
  return vscode.window.activeTextEditor?.document.uri;
}

function requestOf(s: Services, arg: unknown): { uri: vscode.Uri; request: OutgoingRequest } | undefined {
  const uri = replyUri(arg);
  const request = uri ? s.sender.requestFor(uri) : undefined;
  if (!uri || !request) {
    void vscode.window.showErrorMessage("ZeroMQ Broker: this is not the reply to a request sent from the editor (or it is too old).");
    return undefined;
  }
  return { uri, request };
}

export async function sendAgain(s: Services, arg?: unknown): Promise<ReplyDocument | undefined> {
  const found = requestOf(s, arg);
  return found ? s.sender.send(found.request) : undefined;
}

/** Copies the command and returns it. */
export async function copyAsCliCommand(s: Services, arg?: unknown): Promise<string | undefined> {
  const found = requestOf(s, arg);
  if (!found) return undefined;
  const result = cliCommand(s.session.clientsEndpoint(), found.request.frames, found.request.options);
  if ("error" in result) {
    void vscode.window.showErrorMessage(`ZeroMQ Broker: cannot write it as one command: ${result.error}.`);
    return undefined;
  }
  await vscode.env.clipboard.writeText(result.command);
  void vscode.window.setStatusBarMessage("ZeroMQ Broker: copied the ztb client send command", 5000);
  return result.command;
}

/** Save Reply As…: the document's text to a file the person picks. Resolves with the file written. */
export async function saveReply(_s: Services, arg?: unknown): Promise<string | undefined> {
  const uri = replyUri(arg);
  if (!uri) return undefined;
  const document = await vscode.workspace.openTextDocument(uri);
  const { path: file } = uri;
  const name = file.slice(file.lastIndexOf("/") + 1);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, name) } : {}),
    filters: { Text: ["txt"] },
    title: "Save Reply As",
  });
  if (!target) return undefined;
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(document.getText()));
  return target.toString();
}
