/**
 * Editor help for request files, each a thin wrapper over a pure module: completion (completion.ts), quick fixes for
 * misspelt options and variables (the `fix` of request-file.ts errors), the outline and folding per block (outline.ts).
 */
import * as vscode from "vscode";
import { completionsAt } from "./completion";
import { foldingRanges, outline } from "./outline";
import { allErrors, parseRequestDocument } from "./request-file";

export const ZTB_SELECTOR: vscode.DocumentSelector = { language: "ztb-request" };

/** What the features need from the rest of the extension. */
export interface LanguageContext {
  environment(): Record<string, string>;
  /** Services live workers serve; empty when not connected. */
  services(): string[];
}

const COMPLETION_KIND = {
  option: vscode.CompletionItemKind.Property,
  service: vscode.CompletionItemKind.Module,
  variable: vscode.CompletionItemKind.Variable,
} as const;

export class RequestCompletions implements vscode.CompletionItemProvider {
  constructor(private readonly context: LanguageContext) {}

  provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): vscode.CompletionItem[] {
    const parsed = parseRequestDocument(document.getText(), this.context.environment());
    const line = document.lineAt(position.line).text;
    return completionsAt(line, position.character, { services: this.context.services(), variables: parsed.scope.names() }).map((c) => {
      const item = new vscode.CompletionItem(c.label, COMPLETION_KIND[c.kind]);
      item.insertText = c.insertText;
      item.range = new vscode.Range(position.line, c.from, position.line, position.character);
      if (c.detail !== undefined) item.detail = c.detail;
      return item;
    });
  }
}

/** Quick fixes: replace a misspelt option or variable name with each close known one. */
export class RequestQuickFixes implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly context: LanguageContext) {}

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const wanted = context.diagnostics.filter((d) => d.source === "ztb");
    if (wanted.length === 0) return [];
    const errors = allErrors(parseRequestDocument(document.getText(), this.context.environment()));
    const actions: vscode.CodeAction[] = [];
    for (const error of errors) {
      const fix = error.fix;
      if (!fix || fix.column < 0 || error.line < range.start.line || error.line > range.end.line) continue;
      const diagnostic = wanted.find((d) => d.range.start.line === error.line && d.message === error.message);
      fix.candidates.forEach((candidate, i) => {
        const action = new vscode.CodeAction(
          fix.code === "unknown-option" ? `Change to @${candidate}` : `Change to {{${candidate}}}`,
          vscode.CodeActionKind.QuickFix,
        );
        action.edit = new vscode.WorkspaceEdit();
        action.edit.replace(document.uri, new vscode.Range(error.line, fix.column, error.line, fix.column + fix.length), candidate);
        if (diagnostic) action.diagnostics = [diagnostic];
        action.isPreferred = i === 0;
        actions.push(action);
      });
    }
    return actions;
  }
}

export class RequestOutline implements vscode.DocumentSymbolProvider, vscode.FoldingRangeProvider {
  constructor(private readonly context: LanguageContext) {}

  provideDocumentSymbols(document: vscode.TextDocument): vscode.DocumentSymbol[] {
    const text = document.getText();
    return outline(text, parseRequestDocument(text, this.context.environment())).map((item) => {
      const range = new vscode.Range(item.startLine, 0, item.endLine, document.lineAt(item.endLine).text.length);
      const kind = item.kind === "block" ? vscode.SymbolKind.Function : vscode.SymbolKind.Variable;
      return new vscode.DocumentSymbol(item.name, item.detail, kind, range, document.lineAt(item.startLine).range);
    });
  }

  provideFoldingRanges(document: vscode.TextDocument): vscode.FoldingRange[] {
    const text = document.getText();
    return foldingRanges(text, parseRequestDocument(text, this.context.environment())).map(
      (r) => new vscode.FoldingRange(r.start, r.end, vscode.FoldingRangeKind.Region),
    );
  }
}
