/**
 * A task's outcome as it travels between brokers (to the origin's reply subject, and as a kept result): one frame of
 * JSON (`task`, `service`, `detail`) followed by the reply's payload frames, in task-record.ts's frame layout. This
 * file is the only code that knows it.
 */
import type { ClusterReply } from "../core/cluster";
import { FAILURE_REASONS, type FailureReason } from "../protocol/messages";
import { TaskDecodeError } from "./errors";
import { decodeFrames, encodeFrames } from "./task-record";

export const REPLY_FORMAT = 1;

export function encodeReply(reply: ClusterReply): Uint8Array {
  const head = JSON.stringify({ format: REPLY_FORMAT, task: reply.task, service: reply.service, detail: reply.detail, frames: reply.payload.length });
  return encodeFrames([Buffer.from(head, "utf8"), ...reply.payload]);
}

interface Head {
  format?: unknown;
  task?: unknown;
  service?: unknown;
  frames?: unknown;
  detail?: { status?: unknown; reason?: unknown; message?: unknown; attempts?: unknown; worker?: unknown };
}

/** The reply in `bytes`; throws TaskDecodeError for bytes another program sent. */
export function decodeReply(bytes: Uint8Array): ClusterReply {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw new TaskDecodeError("reply: shorter than a frame length");
  const headLength = view.getUint32(0);
  if (4 + headLength > bytes.length) throw new TaskDecodeError("reply: its first frame runs past the end");
  let head: Head;
  try {
    head = JSON.parse(Buffer.from(bytes.subarray(4, 4 + headLength)).toString("utf8")) as Head;
  } catch (error) {
    throw new TaskDecodeError("reply: the first frame is not JSON", { cause: error });
  }
  const { task, service, frames, detail } = head;
  if (head.format !== REPLY_FORMAT || typeof task !== "string" || typeof service !== "string" || typeof frames !== "number" || detail === undefined) {
    throw new TaskDecodeError("reply: not a ztb reply record");
  }
  const status = detail.status;
  if ((status !== "succeeded" && status !== "failed") || typeof detail.attempts !== "number") throw new TaskDecodeError("reply: bad detail");
  const payload = decodeFrames(bytes.subarray(4 + headLength), frames);
  const out: ClusterReply["detail"] = { status, attempts: detail.attempts };
  const reason = FAILURE_REASONS.find((r): r is FailureReason => r === detail.reason);
  if (reason !== undefined) out.reason = reason;
  if (typeof detail.message === "string") out.message = detail.message;
  if (typeof detail.worker === "string") out.worker = detail.worker;
  return { task, service, detail: out, payload };
}
