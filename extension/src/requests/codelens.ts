/**
 * "Send Request" above each block of a `.ztb` file, in two phases as the codelens sample does: provideCodeLenses only
 * finds block header lines (cheap, runs on every edit); resolveCodeLens parses the file for the lenses on screen and
 * turns a broken block's lens into its first error.
 */
import * as vscode from "vscode";
import { unservedServices } from "./completion";
import type { LanguageContext } from "./language-features";
import { allErrors, blockAt, blockHeaderLines, formatError, parseRequestDocument, parseRequestFile } from "./request-file";

class BlockLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly document: vscode.TextDocument,
  ) {
    super(range);
  }
}

export class RequestCodeLensProvider implements vscode.CodeLensProvider<BlockLens> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly context: LanguageContext) {}

  /** The environment changed: lenses resolve again (their errors may be gone or new). */
  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): BlockLens[] {
    return blockHeaderLines(document.getText()).map((line) => new BlockLens(new vscode.Range(line, 0, line, 0), document));
  }

  resolveCodeLens(lens: BlockLens): BlockLens {
    const line = lens.range.start.line;
    const block = blockAt(parseRequestFile(lens.document.getText(), this.context.environment()), line);
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

/**
 * Parse errors of open `.ztb` documents as diagnostics (Problems view, squiggles), and a warning on each `@service`
 * no connected worker serves (while connected): such a request would wait with no hint.
 */
export class RequestDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("ztb-request");
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: LanguageContext & { connected(): boolean }) {
    const check = (doc: vscode.TextDocument): void => this.check(doc);
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument(check),
      vscode.workspace.onDidChangeTextDocument((e) => check(e.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.collection.delete(doc.uri)),
    );
    vscode.workspace.textDocuments.forEach(check);
  }

  /** Checks every open request file again (the environment or the live services changed). */
  recheck(): void {
    vscode.workspace.textDocuments.forEach((doc) => this.check(doc));
  }

  private check(document: vscode.TextDocument): void {
    if (document.languageId !== "ztb-request") return;
    const diagnostics: vscode.Diagnostic[] = [];
    const text = document.getText();
    const parsed = parseRequestDocument(text, this.context.environment());
    const lineRange = (line: number): vscode.Range => document.lineAt(Math.min(line, document.lineCount - 1)).range;
    for (const error of allErrors(parsed)) {
      const range = error.fix && error.fix.column >= 0
        ? new vscode.Range(error.line, error.fix.column, error.line, error.fix.column + error.fix.length)
        : lineRange(error.line);
      const diagnostic = new vscode.Diagnostic(range, error.message, vscode.DiagnosticSeverity.Error);
      diagnostic.source = DIAGNOSTIC_SOURCE;
      if (error.fix) diagnostic.code = error.fix.code;
      diagnostics.push(diagnostic);
    }
    if (this.context.connected()) {
      const services = this.context.services();
      for (const { line, service } of unservedServices(text.split(/\r?\n/), parsed.blocks, new Set(services))) {
        const served = services.length === 0 ? "no worker is connected" : `workers serve ${services.join(", ")}`;
        const diagnostic = new vscode.Diagnostic(lineRange(line), `no connected worker serves "${service}" (${served}); the request would wait`, vscode.DiagnosticSeverity.Warning);
        diagnostic.source = DIAGNOSTIC_SOURCE;
        diagnostic.code = "unserved-service";
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
