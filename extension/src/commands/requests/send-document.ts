import * as path from "node:path";
import * as vscode from "vscode";
import type { ReplyDocument } from "../../api";
import type { Services } from "../services";
import { sendRequest } from "./send-request";

/**
 * Send Document as Request: a `.ztb` file sends the block under the cursor (a request file holds many requests);
 * any other document is sent whole as ONE frame, UTF-8, to the default service.
 */
export async function sendDocument(s: Services, uriArg?: unknown): Promise<ReplyDocument | undefined> {
  const uri = uriArg instanceof vscode.Uri ? uriArg : undefined;
  const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
  if (!document) {
    void vscode.window.showErrorMessage("ZeroMQ Broker: open the document to send first.");
    return undefined;
  }
  if (document.languageId === "ztb-request") return sendRequest(s, document.uri);
  const name = path.basename(document.uri.path);
  return s.sender.send({ title: name, frames: [new TextEncoder().encode(document.getText())], options: {} });
}
