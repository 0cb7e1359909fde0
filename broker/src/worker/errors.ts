/** Errors a task handler throws to shape the FAIL it causes (protocol/spec.md §Worker: FAIL). */

/**
 * A failure that retrying elsewhere cannot fix (bad input, say): the worker sends FAIL with `retryable: false` and the
 * broker fails the request at once. Any error with a `retryable` property set to `false` is treated the same way.
 */
export class NonRetryableError extends Error {
  override readonly name: string = "NonRetryableError";
  readonly retryable = false;
}

/** The reason given to a handler's AbortSignal when the broker sends CANCEL for its task. */
export class TaskCancelledError extends Error {
  override readonly name = "TaskCancelledError";
  constructor(
    readonly reason: "timeout" | "answered" | "cancelled" | "disconnected" | "closed" | "given-back" | "replaced",
    options?: { cause?: unknown },
  ) {
    super(`task cancelled (${reason})`, options);
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof NonRetryableError) return false;
  return !(typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === false);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** The spec bounds FAIL's message to 1024 octets; cut on a code point boundary. */
export function truncateUtf8(text: string, maxOctets: number): string {
  if (Buffer.byteLength(text, "utf8") <= maxOctets) return text;
  let out = "";
  let size = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, "utf8");
    if (size + n > maxOctets - 3) break;
    out += ch;
    size += n;
  }
  return out + "...";
}
