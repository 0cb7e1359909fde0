/**
 * "Send Request" above each block of a `.ztb` file, in two phases as the codelens sample does: provideCodeLenses only
 * finds block header lines (cheap, runs on every edit); resolveCodeLens parses the file for the lenses on screen and
 * turns a broken block's lens into its first error.
 */
import * as vscode from "vscode";
import { blockAt, blockHeaderLines, formatError, parseRequestFile } from "./request-file";

class BlockLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly document: vscode.TextDocument,
  ) {
    super(range);
  }
}

export class RequestCodeLensProvider implements vscode.CodeLensProvider<BlockLens> {
  provideCodeLenses(document: vscode.TextDocument): BlockLens[] {
    return blockHeaderLines(document.getText()).map((line) => new BlockLens(new vscode.Range(line, 0, line, 0), document));
  }

  resolveCodeLens(lens: BlockLens): BlockLens {
    const line = lens.range.start.line;
    const block = blockAt(parseRequestFile(lens.document.getText()), line);
    const first = block?.errors[0];
    if (!block || first) {
      lens.command = { title: `$(warning) ${first ? formatError(first) : "no request here"}`, command: "" };
      return lens;
    }
    const parts = [`${block.frames.length} frame${block.frames.length === 1 ? "" : "s"}`];
    if (block.options.service) parts.push(`service ${block.options.service}`);
    lens.command = {
      title: `$(send) Send Request (${parts.join(", ")})`,
      command: "ztb.sendRequest",
      arguments: [lens.document.uri, line],
    };
    return lens;
  }
}

/** What the Problems view shows beside a request-file error, so it is clear which tool reports it. */
export const DIAGNOSTIC_SOURCE = "ztb";

/** Parse errors of open `.ztb` documents as diagnostics (Problems view, squiggles). */
export class RequestDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("ztb-request");
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    const check = (doc: vscode.TextDocument): void => this.check(doc);
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument(check),
      vscode.workspace.onDidChangeTextDocument((e) => check(e.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.collection.delete(doc.uri)),
    );
    vscode.workspace.textDocuments.forEach(check);
  }

  private check(document: vscode.TextDocument): void {
    if (document.languageId !== "ztb-request") return;
    const diagnostics: vscode.Diagnostic[] = [];
    for (const block of parseRequestFile(document.getText())) {
      for (const error of block.errors) {
        const range = document.lineAt(Math.min(error.line, document.lineCount - 1)).range;
        const diagnostic = new vscode.Diagnostic(range, error.message, vscode.DiagnosticSeverity.Error);
        diagnostic.source = DIAGNOSTIC_SOURCE;
        diagnostics.push(diagnostic);
      }
    }
    this.collection.set(document.uri, diagnostics);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.collection.dispose();
  }
}
