/**
 * Read-only documents for replies and task details: scheme `ztb-reply`, content held in memory. A `.ztb` path makes
 * VS Code open Show Request documents in the request-file language, so they can be sent again.
 */
import * as vscode from "vscode";

export const REPLY_SCHEME = "ztb-reply";
const MAX_DOCUMENTS = 50;

export class ReplyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private counter = 0;
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "This reply is no longer available.\n";
  }

  /**
   * Stores `text` under a new URI named after `name` (e.g. "reply.txt"). `kind` "sent" marks the reply to a request
   * sent from the editor: its path then starts with /sent/, which the reply editor's title menus match.
   */
  create(name: string, text: string, kind: "sent" | "inspect" = "inspect"): vscode.Uri {
    const safe = name.replace(/[^\w.#-]+/g, "-");
    const uri = vscode.Uri.from({ scheme: REPLY_SCHEME, path: `/${kind}/${++this.counter}/${safe}` });
    this.texts.set(uri.toString(), text);
    while (this.texts.size > MAX_DOCUMENTS) {
      const oldest = this.texts.keys().next();
      if (oldest.done === true) break;
      this.texts.delete(oldest.value);
    }
    return uri;
  }

  /** Opens `uri` beside the active editor without taking focus. */
  async show(uri: vscode.Uri): Promise<vscode.TextEditor> {
    const document = await vscode.workspace.openTextDocument(uri);
    return vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  }

  dispose(): void {
    this.changed.dispose();
    this.texts.clear();
  }
}
