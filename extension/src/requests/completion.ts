/**
 * What Ctrl+Space offers in a request file (the language defaults keep suggestions from popping up while typing, so
 * nothing here can rewrite a frame unasked): option names after `@`, the services live workers offer after
 * `@service `, and variable names inside `{{`. Pure, unit-tested; completion-provider.ts only wraps it.
 */
import { KNOWN_OPTIONS } from "./request-file";

export interface CompletionContext {
  /** Services some connected worker serves. */
  services: readonly string[];
  /** Variables in scope (file, then environment). */
  variables: readonly string[];
}

export interface Completion {
  label: string;
  kind: "option" | "service" | "variable";
  detail?: string;
  /** Replace from this column up to the cursor. */
  from: number;
  insertText: string;
}

export function completionsAt(line: string, character: number, context: CompletionContext): Completion[] {
  const before = line.slice(0, character);
  const open = before.lastIndexOf("{{");
  if (open >= 0 && !before.slice(open).includes("}}")) {
    const from = open + 2 + (/^\s*/.exec(before.slice(open + 2))?.[0].length ?? 0);
    return context.variables.map((name) => ({ label: name, kind: "variable", from, insertText: line.slice(character).startsWith("}}") ? name : `${name}}}` }));
  }
  const service = /^@service\s+(\S*)$/.exec(before);
  if (service) {
    return context.services.map((name) => ({ label: name, kind: "service", detail: "served by a live worker", from: character - (service[1]?.length ?? 0), insertText: name }));
  }
  if (/^@\w*$/.test(before)) {
    return KNOWN_OPTIONS.map((name) => ({ label: `@${name}`, kind: "option", detail: OPTION_DETAIL[name], from: 0, insertText: `@${name} ` }));
  }
  return [];
}

const OPTION_DETAIL: Record<(typeof KNOWN_OPTIONS)[number], string> = {
  service: "the service to send to (default: default)",
  timeout: "per-attempt timeout in seconds",
  attempts: "attempts to ask for (the broker's -t caps it)",
};

/** The `@service` lines naming a service no connected worker serves (a request to it would wait with no hint). */
export function unservedServices(
  lines: readonly string[],
  blocks: readonly { options: { service?: string }; headerLine: number; endLine: number }[],
  served: ReadonlySet<string>,
): { line: number; service: string }[] {
  const out: { line: number; service: string }[] = [];
  for (const block of blocks) {
    const service = block.options.service;
    if (service === undefined || served.has(service)) continue;
    for (let n = block.headerLine; n <= block.endLine; n++) {
      if (/^@service\s/.test(lines[n] ?? "")) {
        out.push({ line: n, service });
        break;
      }
    }
  }
  return out;
}
