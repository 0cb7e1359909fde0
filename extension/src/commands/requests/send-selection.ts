import * as path from "node:path";
import * as vscode from "vscode";
import type { ReplyDocument } from "../../api";
import { parseRequestFile } from "../../requests/request-file";
import type { Services } from "../services";
import { sendBlock } from "./send-request";

/**
 * Send Selection as Request: in a `.ztb` file the selection is read as request-file text (its first block); in any
 * other file the selected text is sent as ONE frame, UTF-8, to the default service.
 */
export async function sendSelection(s: Services): Promise<ReplyDocument | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) {
    void vscode.window.showErrorMessage("ZeroMQ Broker: select the text to send first.");
    return undefined;
  }
  const text = editor.document.getText(editor.selection);
  const name = path.basename(editor.document.uri.path);
  if (editor.document.languageId === "ztb-request") return sendBlock(s, parseRequestFile(text, s.environments.values())[0], `${name} (selection)`);
  return s.sender.send({ title: `${name} (selection)`, frames: [new TextEncoder().encode(text)], options: {} });
}
