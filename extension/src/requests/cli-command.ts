/**
 * "Copy as `ztb client send`": the shell command that sends the same request from a terminal. Pure, unit-tested.
 * Frames become POSIX-shell-quoted arguments; ONE frame that is not valid text, or holds a NUL (which no argument can
 * carry), or is just `-`, is piped in on stdin with printf and passed as `-`. More than one such frame cannot be written as one
 * command: that is an error the caller shows.
 */
import type { RequestOptions } from "./request-file";

const decoder = new TextDecoder("utf-8", { fatal: true });

export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function asArgument(frame: Uint8Array): string | undefined {
  try {
    const text = decoder.decode(frame);
    return text.includes("\u0000") ? undefined : text;
  } catch {
    return undefined;
  }
}

export function cliCommand(endpoint: string, frames: readonly Uint8Array[], options: RequestOptions): { command: string } | { error: string } {
  const args: string[] = ["ztb", "client", "send"];
  if (options.service !== undefined) args.push("--service", shellQuote(options.service));
  if (options.timeout !== undefined) args.push("--timeout", `${options.timeout}ms`);
  if (options.attempts !== undefined) args.push("--attempts", String(options.attempts));
  args.push(shellQuote(endpoint));
  let stdin: Uint8Array | undefined;
  for (const frame of frames) {
    const text = asArgument(frame);
    // A frame that is just "-" would be read as "stdin" however it is quoted: it goes through stdin too.
    if (text !== undefined && text !== "-") {
      args.push(shellQuote(text));
      continue;
    }
    if (stdin !== undefined) return { error: "the request has more than one binary frame; ztb client send takes only one on stdin" };
    stdin = frame;
    args.push("-");
  }
  const command = args.join(" ");
  if (stdin === undefined) return { command };
  const escaped = [...stdin].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
  return { command: `printf '${escaped}' | ${command}` };
}
