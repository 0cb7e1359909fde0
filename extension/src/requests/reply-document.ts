/**
 * The text of a reply document (`ztb-reply:` scheme): a REPLY of the client protocol (ztb-brief §Client, REPLY
 * detail) or an INSPECT result, formatted for a person. Pure, unit-tested.
 */
import type { FrameView, ReplyDetail, TaskInspection } from "../../../broker/src/protocol/messages";
import { exactDuration, timestamp } from "../model/relative-time";

const REASON_TEXT: Record<string, string> = {
  timeout: "the last attempt timed out",
  "worker-failed": "the worker reported a failure",
  "worker-lost": "the worker holding it disconnected or stopped heartbeating",
  "queue-full": "the service's queue was full",
  malformed: "the broker could not decode the request",
  "unknown-service": "the broker does not serve this service",
  cancelled: "cancelled",
  shutdown: "the broker shut down",
};

export interface ReplyInput {
  title: string;
  detail: ReplyDetail;
  frames: readonly FrameView[];
  /** Measured by the sender, ms. */
  roundTrip: number;
  /** Set when the request was sent in plain mode, where the broker reports no detail. */
  plain?: boolean;
}

export function frameSize(frame: FrameView): number {
  return "text" in frame ? new TextEncoder().encode(frame.text).length : frame.hex.length / 2;
}

export function formatFrames(frames: readonly FrameView[], heading = "Frames"): string[] {
  const lines = [`${heading}: ${frames.length}`];
  frames.forEach((frame, i) => {
    const kind = "text" in frame ? "text" : "hex";
    lines.push("", `── frame ${i + 1} · ${frameSize(frame)} bytes · ${kind} ──`);
    lines.push("text" in frame ? frame.text : groupHex(frame.hex));
  });
  return lines;
}

/** "0a0b0c…" as "0a 0b 0c …", 16 bytes per line. */
export function groupHex(hex: string): string {
  const bytes = hex.match(/../g) ?? [];
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) rows.push(bytes.slice(i, i + 16).join(" "));
  return rows.join("\n");
}

export function formatReply(input: ReplyInput): string {
  const d = input.detail;
  const lines = [`Reply to ${input.title}`, ""];
  const status = d.status === "succeeded" ? "✔ succeeded" : `✘ failed${d.reason ? ` (${d.reason})` : ""}`;
  lines.push(row("Status", status));
  if (d.reason) lines.push(row("Reason", REASON_TEXT[d.reason] ?? d.reason));
  if (d.message) lines.push(row("Message", d.message));
  if (d.error) lines.push(row("Error code", d.error));
  if (d.task) lines.push(row("Task", d.task));
  lines.push(row("Attempts", `${d.attempts}`));
  if (d.worker) lines.push(row("Worker", d.worker));
  lines.push(row("Broker time", exactDuration(d.elapsed)));
  lines.push(row("Round trip", exactDuration(input.roundTrip)));
  lines.push("");
  lines.push(...formatFrames(input.frames));
  return lines.join("\n") + "\n";
}

/**
 * Show Reply on a task (INSPECT): the task's outcome and its reply frames as the broker kept them. INSPECT names the
 * worker by id; `workerName` turns it into the name the trees and reply documents show (the id when it is unknown).
 */
export function formatInspection(inspection: TaskInspection, workerName: (id: string) => string = (id) => id): string {
  const t = inspection.task;
  const lines = [`Task ${t.id}`, ""];
  lines.push(row("State", t.state));
  if (t.reason) lines.push(row("Reason", `${t.reason} — ${REASON_TEXT[t.reason] ?? t.reason}`));
  if (t.message) lines.push(row("Message", t.message));
  lines.push(row("Service", t.service));
  lines.push(row("Attempts", `${t.attempt} of ${t.attempts ?? "unlimited"}`));
  if (t.worker) lines.push(row("Worker", workerName(t.worker)));
  lines.push(row("Created", timestamp(t.createdAt)));
  if (t.finishedAt !== undefined) {
    lines.push(row("Finished", timestamp(t.finishedAt)));
    lines.push(row("Took", exactDuration(t.finishedAt - t.createdAt)));
  }
  lines.push("");
  if (inspection.reply) lines.push(...formatFrames(inspection.reply, "Reply frames"));
  else lines.push("No reply frames (the task has no successful answer).");
  if (inspection.truncated) lines.push("", "(frames truncated by the broker at 64 KiB)");
  return lines.join("\n") + "\n";
}

/**
 * The reply document's file name for a request title ("notes.txt" -> "reply-notes.txt", "sample.ztb#1 Say hello" ->
 * "reply-sample.ztb#1 Say hello.txt"): one ".txt", never "….txt.txt".
 */
export function replyDocumentName(title: string): string {
  const base = title.slice(title.lastIndexOf("/") + 1).replace(/\.txt$/i, "");
  return `reply-${base}.txt`;
}

function row(label: string, value: string): string {
  return `${(label + ":").padEnd(13)}${value}`;
}
