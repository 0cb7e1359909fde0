import * as path from "node:path";
import * as vscode from "vscode";
import type { ReplyDocument } from "../../api";
import { blockAt, formatError, parseRequestFile, type RequestBlock } from "../../requests/request-file";
import type { Services } from "../services";

/**
 * Send Request — the one command behind the CodeLens, the keybinding and the palette (as REST Client does):
 * `(uri?, line?)` sends the block of that document containing that 0-based line; without arguments, the block under
 * the cursor of the active editor. Resolves with the reply (undefined when nothing was sent).
 */
export async function sendRequest(s: Services, uriArg?: unknown, lineArg?: unknown): Promise<ReplyDocument | undefined> {
  const uri = uriArg instanceof vscode.Uri ? uriArg : typeof uriArg === "string" ? vscode.Uri.parse(uriArg) : undefined;
  const editor = vscode.window.activeTextEditor;
  const document = uri ? await vscode.workspace.openTextDocument(uri) : editor?.document;
  if (!document) {
    void vscode.window.showErrorMessage("ZeroMQ Broker: open a .ztb request file first.");
    return undefined;
  }
  const line = typeof lineArg === "number" ? lineArg : editor?.document === document ? editor.selection.active.line : 0;
  const blocks = parseRequestFile(document.getText(), s.environments.values());
  const block = blockAt(blocks, line) ?? blocks[0];
  return sendBlock(s, block, path.basename(document.uri.path));
}

export async function sendBlock(s: Services, block: RequestBlock | undefined, fileName: string): Promise<ReplyDocument | undefined> {
  if (!block) {
    void vscode.window.showErrorMessage(`ZeroMQ Broker: ${fileName} has no request block.`);
    return undefined;
  }
  const first = block.errors[0];
  if (first) {
    void vscode.window.showErrorMessage(`ZeroMQ Broker: ${fileName} ${formatError(first)}`);
    return undefined;
  }
  const title = `${fileName}#${block.index + 1}${block.title ? ` ${block.title}` : ""}`;
  return s.sender.send({ title, frames: block.frames, options: block.options });
}
