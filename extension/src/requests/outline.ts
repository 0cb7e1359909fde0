/**
 * Outline and folding for request files: one symbol and one folding range per `###` block (variables are symbols
 * too). Pure ranges here; language-features.ts turns them into vscode objects.
 */
import type { RequestDocument } from "./request-file";

export interface OutlineItem {
  name: string;
  detail: string;
  kind: "block" | "variable";
  /** 0-based, inclusive. */
  startLine: number;
  endLine: number;
}

/** A block's last line that is not blank, so a fold does not swallow the empty lines before the next block. */
function lastContentLine(lines: readonly string[], start: number, end: number): number {
  let n = end;
  while (n > start && (lines[n] ?? "").trim() === "") n--;
  return n;
}

export function outline(text: string, document: RequestDocument): OutlineItem[] {
  const lines = text.split(/\r?\n/);
  const items: OutlineItem[] = document.variables.map((v) => ({
    name: `@${v.name}`,
    detail: v.value,
    kind: "variable",
    startLine: v.line,
    endLine: v.line,
  }));
  for (const block of document.blocks) {
    const frames = `${block.frames.length} frame${block.frames.length === 1 ? "" : "s"}`;
    items.push({
      name: block.title || `(untitled block ${block.index + 1})`,
      detail: block.options.service === undefined ? frames : `${block.options.service} · ${frames}`,
      kind: "block",
      startLine: block.headerLine,
      endLine: lastContentLine(lines, block.headerLine, block.endLine),
    });
  }
  return items.sort((a, b) => a.startLine - b.startLine);
}

/** Folding ranges: each block from its header to its last non-blank line (one-line blocks do not fold). */
export function foldingRanges(text: string, document: RequestDocument): { start: number; end: number }[] {
  return outline(text, document)
    .filter((item) => item.kind === "block" && item.endLine > item.startLine)
    .map((item) => ({ start: item.startLine, end: item.endLine }));
}
