/**
 * The `.ztb` request-file format (language id `ztb-request`), parsed without VS Code. Also documented in
 * extension/README.md ("Request files"); the examples there are parsed by test/extension/request-file.test.ts.
 *
 * Rules, line by line (`\n` or `\r\n` endings):
 * - A line starting with `###` starts a new block; the rest of the line, trimmed, is the block's title. Lines before
 *   the first `###` form an untitled block if they hold any option or frame.
 * - Other lines starting with `#` are comments. Lines that are empty or only whitespace are ignored.
 * - Option lines, only before the block's first frame: `@service NAME` (1..64 characters, no spaces),
 *   `@timeout SECONDS` (per-attempt timeout, a number > 0, sent in ms), `@attempts N` (an integer >= 1). An unknown
 *   option, a repeated option, an option after a frame, or a bad value is an error.
 * - Every other line is ONE frame:
 *   - `hex:0a0b ff` — binary: hex digits, whitespace between them ignored, an even count (`hex:` alone = empty frame);
 *   - `text:anything` — the literal rest of the line, so `text:` alone is an empty frame and `text:#x`, `text:@x`,
 *     `text:hex:..`, `text:text:..` send lines that would otherwise be read as comments, options or prefixes;
 *   - anything else — the line exactly as written (UTF-8, leading and trailing spaces kept).
 * - A frame cannot contain a newline; write such a frame as `hex:`.
 * - A block without frames is an error (there is nothing to send).
 * - `@name = value` defines a variable for the whole file (anywhere; not an option, it opens no block); `{{name}}` in a
 *   frame or an option value is replaced by it, or by the chosen environment's value (variables.ts). An unknown name
 *   is an error.
 * Errors carry the 0-based line; messages show it 1-based ("line 4: …") as editors do.
 */
import { frameView } from "../../../broker/src/codec/frame-view";
import { MAX_NAME } from "../../../broker/src/protocol/limits";
import { closestWords } from "./spelling";
import { hasReference, parseDefinition, VariableScope, type FileVariable, type Substitution } from "./variables";


export interface RequestOptions {
  service?: string;
  /** Per-attempt timeout in ms. */
  timeout?: number;
  attempts?: number;
}

export interface ParseError {
  /** 0-based line. */
  line: number;
  message: string;
  /** Set on errors a quick fix can repair: the misspelt word's place on the line and what it could be. */
  fix?: { code: "unknown-option" | "unknown-variable"; column: number; length: number; candidates: string[] };
}

/** The whole file: its blocks, its variable definitions and the errors that belong to no block. */
export interface RequestDocument {
  blocks: RequestBlock[];
  variables: FileVariable[];
  errors: ParseError[];
  /** What `{{name}}` resolves against (file variables, then the environment). */
  scope: VariableScope;
}

export interface RequestBlock {
  /** 0-based position in the file. */
  index: number;
  /** Text after `###`, or "" (untitled). */
  title: string;
  /** The `###` line, or the block's first non-blank line for an untitled first block. */
  headerLine: number;
  /** Last line that belongs to the block (the line before the next `###`, or the file's last line). */
  endLine: number;
  options: RequestOptions;
  frames: Uint8Array[];
  /** The line of each frame, same order as `frames`. */
  frameLines: number[];
  errors: ParseError[];
}

export const KNOWN_OPTIONS = ["service", "timeout", "attempts"] as const;
const MAX_SERVICE = MAX_NAME;
const encoder = new TextEncoder();

/** The cheap first pass for CodeLenses: the header line of every block, without parsing frames. */
export function blockHeaderLines(text: string): number[] {
  const headers: number[] = [];
  let seenHeader = false;
  text.split(/\r?\n/).forEach((line, n) => {
    if (line.startsWith("###")) {
      headers.push(n);
      seenHeader = true;
    } else if (!seenHeader && headers.length === 0 && line.trim() !== "" && !line.startsWith("#") && !parseDefinition(line)) {
      headers.push(n);
    }
  });
  return headers;
}

/** The blocks of a request file; `environment` holds the chosen environment's variables (variables.ts). */
export function parseRequestFile(text: string, environment: Readonly<Record<string, string>> = {}): RequestBlock[] {
  return parseRequestDocument(text, environment).blocks;
}

export function parseRequestDocument(text: string, environment: Readonly<Record<string, string>> = {}): RequestDocument {
  const lines = text.split(/\r?\n/);
  const variables: FileVariable[] = [];
  const errors: ParseError[] = [];
  lines.forEach((line, n) => {
    const definition = parseDefinition(line);
    if (!definition) return;
    const earlier = variables.find((v) => v.name === definition.name);
    if (earlier) errors.push({ line: n, message: `variable @${definition.name} is already defined on line ${earlier.line + 1}` });
    else variables.push({ ...definition, line: n });
  });
  const scope = new VariableScope(variables, environment);
  for (const v of variables) {
    const resolved = scope.substitute(v.value);
    if (!resolved.ok) errors.push(variableError(scope, v.line, lines[v.line] ?? "", resolved));
  }
  const blocks: RequestBlock[] = [];
  let current: RequestBlock | undefined;
  let implicitStart: number | undefined;

  const open = (title: string, headerLine: number): RequestBlock => {
    const block: RequestBlock = {
      index: blocks.length,
      title,
      headerLine,
      endLine: headerLine,
      options: {},
      frames: [],
      frameLines: [],
      errors: [],
    };
    blocks.push(block);
    return block;
  };

  lines.forEach((line, n) => {
    if (line.startsWith("###")) {
      current = open(line.slice(3).trim(), n);
      return;
    }
    if (line.trim() === "" || line.startsWith("#") || parseDefinition(line)) {
      if (current) current.endLine = n;
      return;
    }
    if (!current) {
      implicitStart ??= n;
      current = open("", implicitStart);
    }
    current.endLine = n;
    if (line.startsWith("@")) parseOption(current, line, n, scope);
    else addFrame(current, line, n, scope);
  });

  for (const block of blocks) {
    if (block.frames.length === 0) block.errors.push({ line: block.headerLine, message: "the block has no frames to send" });
  }
  return { blocks, variables, errors, scope };
}

/** Every error of the document, file-level ones first (for diagnostics). */
export function allErrors(document: RequestDocument): ParseError[] {
  return [...document.errors, ...document.blocks.flatMap((b) => b.errors)];
}

/** Substitutes variables in the part of `line` from `offset`; an error names the unknown variable's place. */
function resolve(scope: VariableScope, line: string, n: number, offset: number): { text: string } | { error: ParseError } {
  const result = scope.substitute(line.slice(offset));
  return result.ok ? { text: result.text } : { error: variableError(scope, n, line, result, offset) };
}

function variableError(scope: VariableScope, n: number, line: string, failure: Extract<Substitution, { ok: false }>, offset = 0): ParseError {
  const error: ParseError = { line: n, message: failure.message };
  if (failure.message.startsWith("unknown")) {
    const column = line.indexOf(failure.name, offset + failure.column);
    error.fix = { code: "unknown-variable", column, length: failure.name.length, candidates: closestWords(failure.name, scope.names()) };
  }
  return error;
}

/** The block that contains `line` (0-based), if any. */
export function blockAt(blocks: readonly RequestBlock[], line: number): RequestBlock | undefined {
  return blocks.find((b) => b.headerLine <= line && line <= b.endLine);
}

export function formatError(error: ParseError): string {
  return `line ${error.line + 1}: ${error.message}`;
}

function parseOption(block: RequestBlock, line: string, n: number, scope: VariableScope): void {
  const match = /^@(\S*)\s*(.*?)\s*$/.exec(line);
  const name = match?.[1] ?? "";
  const fail = (message: string): void => void block.errors.push({ line: n, message });
  if (block.frames.length > 0) return fail(`option @${name} after the first frame (write text:${line} to send it as a frame)`);
  const key = KNOWN_OPTIONS.find((k) => k === name);
  if (key === undefined) {
    const candidates = closestWords(name, KNOWN_OPTIONS);
    const hint = candidates[0] === undefined ? "" : `did you mean @${candidates[0]}? `;
    block.errors.push({
      line: n,
      message: `unknown option @${name} (${hint}known: @service, @timeout, @attempts)`,
      fix: { code: "unknown-option", column: 1, length: name.length, candidates },
    });
    return;
  }
  if (block.options[key] !== undefined) return fail(`@${key} given twice`);
  const raw = match?.[2] ?? "";
  const resolved = resolve(scope, line, n, line.indexOf(raw, 1 + name.length));
  if ("error" in resolved) return void block.errors.push(resolved.error);
  const value = resolved.text.trim();
  switch (key) {
    case "service":
      if (value === "" || /\s/.test(value) || value.length > MAX_SERVICE) {
        return fail(`@service needs a name of 1..${MAX_SERVICE} characters without spaces`);
      }
      block.options.service = value;
      return;
    case "timeout": {
      const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
      const ms = Math.round(seconds * 1000);
      if (!Number.isFinite(seconds) || ms < 1) return fail(`@timeout needs seconds > 0, e.g. "@timeout 2.5", not "${value}"`);
      block.options.timeout = ms;
      return;
    }
    case "attempts": {
      const attempts = /^\d+$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(attempts) || attempts < 1) return fail(`@attempts needs an integer >= 1, not "${value}"`);
      block.options.attempts = attempts;
      return;
    }
  }
}

function addFrame(block: RequestBlock, line: string, n: number, scope: VariableScope): void {
  const offset = line.startsWith("hex:") ? 4 : line.startsWith("text:") ? 5 : 0;
  const resolved = resolve(scope, line, n, offset);
  if ("error" in resolved) return void block.errors.push(resolved.error);
  const content = resolved.text;
  let frame: Uint8Array;
  if (offset === 4) {
    const digits = content.replace(/\s+/g, "");
    if (!/^([0-9a-fA-F]{2})*$/.test(digits)) {
      block.errors.push({ line: n, message: "hex: needs an even number of hex digits (0-9, a-f)" });
      return;
    }
    frame = new Uint8Array(digits.length / 2);
    for (let i = 0; i < frame.length; i++) frame[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  } else {
    frame = encoder.encode(content);
  }
  block.frames.push(frame);
  block.frameLines.push(n);
}

// ------------------------------------------------------------------------------------------------------------------
// Writing (Show Request renders a task's request as a block that can be sent again)

/** One frame as a line that parses back to the same bytes: the codec's FrameView rule, and no line breaks. */
export function formatFrameLine(frame: Uint8Array): string {
  const view = frameView(frame);
  // A `{{name}}` would be read as a variable when the block is sent again: such a frame goes as hex too.
  if ("hex" in view || /[\n\r]/.test(view.text) || hasReference(view.text)) return `hex:${toHex(frame)}`;
  const text = view.text;
  const needsEscape =
    text.trim() === "" || text.startsWith("#") || text.startsWith("@") || text.startsWith("hex:") || text.startsWith("text:");
  return needsEscape ? `text:${text}` : text;
}

export function formatRequestBlock(title: string, options: RequestOptions, frames: readonly Uint8Array[]): string {
  const lines = [`### ${title}`.trimEnd()];
  if (options.service !== undefined) lines.push(`@service ${options.service}`);
  if (options.timeout !== undefined) lines.push(`@timeout ${options.timeout / 1000}`);
  if (options.attempts !== undefined) lines.push(`@attempts ${options.attempts}`);
  for (const frame of frames) lines.push(formatFrameLine(frame));
  return lines.join("\n") + "\n";
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
