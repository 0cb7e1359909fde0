/**
 * Requests sent from the editor, newest first, for Rerun Last and the history quick pick (REST Client has both). A
 * request is kept as it was SENT (variables resolved), so a rerun sends the same bytes even after the file changed.
 * Pure; the extension keeps `toJSON()` in workspace state.
 */
import type { RequestOptions } from "./request-file";

export interface HistoryEntry {
  title: string;
  frames: Uint8Array[];
  options: RequestOptions;
  /** ms timestamp of the send. */
  sentAt: number;
  /** How the reply ended, once it came. */
  status?: "succeeded" | "failed";
}

export interface StoredEntry {
  title: string;
  frames: string[];
  options: RequestOptions;
  sentAt: number;
  status?: "succeeded" | "failed";
}

export const HISTORY_SIZE = 50;

export class RequestHistory {
  private items: HistoryEntry[] = [];

  constructor(private readonly size = HISTORY_SIZE) {}

  /** Adds a send; the same request sent again moves to the top instead of appearing twice. */
  add(entry: HistoryEntry): HistoryEntry {
    this.items = [entry, ...this.items.filter((e) => !sameRequest(e, entry))].slice(0, this.size);
    return entry;
  }

  last(): HistoryEntry | undefined {
    return this.items[0];
  }

  entries(): readonly HistoryEntry[] {
    return this.items;
  }

  clear(): void {
    this.items = [];
  }

  toJSON(): StoredEntry[] {
    return this.items.map((e) => ({ ...e, frames: e.frames.map((f) => Buffer.from(f).toString("base64")) }));
  }

  /** Restores what toJSON wrote; anything malformed (another version, hand edits) is skipped. */
  static fromJSON(stored: unknown, size = HISTORY_SIZE): RequestHistory {
    const history = new RequestHistory(size);
    if (!Array.isArray(stored)) return history;
    for (const item of stored as unknown[]) {
      if (!isStored(item)) continue;
      const entry: HistoryEntry = { title: item.title, options: item.options, sentAt: item.sentAt, frames: item.frames.map((f) => new Uint8Array(Buffer.from(f, "base64"))) };
      if (item.status !== undefined) entry.status = item.status;
      history.items.push(entry);
    }
    history.items = history.items.slice(0, size);
    return history;
  }
}

/** Payload frames, octet for octet (walked together: a payload is not a message whose positions mean anything). */
function sameFrames(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  const other = b.values();
  return a.every((frame) => Buffer.from(frame).equals(Buffer.from(other.next().value ?? new Uint8Array())));
}

function sameRequest(a: HistoryEntry, b: HistoryEntry): boolean {
  return (
    a.title === b.title &&
    JSON.stringify(a.options) === JSON.stringify(b.options) &&
    a.frames.length === b.frames.length &&
    sameFrames(a.frames, b.frames)
  );
}

function isStored(x: unknown): x is StoredEntry {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    typeof r["title"] === "string" &&
    typeof r["sentAt"] === "number" &&
    typeof r["options"] === "object" && r["options"] !== null &&
    Array.isArray(r["frames"]) && (r["frames"] as unknown[]).every((f) => typeof f === "string") &&
    (r["status"] === undefined || r["status"] === "succeeded" || r["status"] === "failed")
  );
}
