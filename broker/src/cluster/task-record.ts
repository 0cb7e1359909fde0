/**
 * A task as it travels through the JetStream stream: ZTB/1 task metadata in message headers, payload frames in the
 * body. This file is the only code that knows the layout (as the codec is for ZeroMQ frames).
 *
 * Body: the payload frames in order, each as a 4-octet big-endian length followed by its octets; no frames = an empty
 * body. The `Ztb-Frames` header repeats the count, so a truncated or foreign body is caught.
 * Headers (values of free text — service, key, client — are percent-encoded, because NATS headers are ASCII lines):
 *
 * | header | value |
 * |---|---|
 * | `Ztb-Format` | `1`, this layout |
 * | `Ztb-Task` | the task id (printable ASCII, spec §Task ids) |
 * | `Ztb-Service` | the service name |
 * | `Ztb-Key` | the client's idempotency key (absent without one) |
 * | `Ztb-Timeout` | effective per-attempt timeout in ms (absent: none) |
 * | `Ztb-Attempts` | effective maximum attempts (absent: unlimited) |
 * | `Ztb-Origin` | id of the broker holding the client's connection: replies go to its reply subject |
 * | `Ztb-Client` | the origin broker's own opaque reference to the waiting client (absent: no client, e.g. admin RETRY) |
 * | `Ztb-Accepted` | when the origin broker accepted the request, ms since the epoch (REPLY `elapsed`) |
 * | `Ztb-Frames` | number of payload frames |
 */
import { headers, type MsgHdrs } from "@nats-io/transport-node";
import type { ClusterTask } from "../core/cluster";
import { TaskDecodeError } from "./errors";

export const TASK_FORMAT = "1";

export type { ClusterTask };

const H = {
  format: "Ztb-Format",
  task: "Ztb-Task",
  service: "Ztb-Service",
  key: "Ztb-Key",
  timeout: "Ztb-Timeout",
  attempts: "Ztb-Attempts",
  origin: "Ztb-Origin",
  client: "Ztb-Client",
  accepted: "Ztb-Accepted",
  frames: "Ztb-Frames",
} as const;

/** Octets of the body for these frames. */
export function encodeFrames(frames: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const frame of frames) size += 4 + frame.length;
  const body = new Uint8Array(size);
  const view = new DataView(body.buffer);
  let at = 0;
  for (const frame of frames) {
    view.setUint32(at, frame.length);
    body.set(frame, at + 4);
    at += 4 + frame.length;
  }
  return body;
}

/** The frames of a body; throws TaskDecodeError when the body is not `count` well-formed frames. */
export function decodeFrames(body: Uint8Array, count: number): Uint8Array[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const frames: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    if (at + 4 > body.length) throw new TaskDecodeError(`task body: a frame length cut at octet ${at}`);
    const length = view.getUint32(at);
    if (at + 4 + length > body.length) throw new TaskDecodeError(`task body: frame ${frames.length} of ${length} octets runs past the end`);
    frames.push(body.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (frames.length !== count) throw new TaskDecodeError(`task body holds ${frames.length} frames, ${H.frames} says ${count}`);
  return frames;
}

export function encodeHeaders(task: ClusterTask): MsgHdrs {
  const h = headers();
  h.set(H.format, TASK_FORMAT);
  h.set(H.task, task.task);
  h.set(H.service, encodeURIComponent(task.service));
  if (task.key !== null) h.set(H.key, encodeURIComponent(task.key));
  if (task.timeout !== null) h.set(H.timeout, String(task.timeout));
  if (task.attempts !== null) h.set(H.attempts, String(task.attempts));
  h.set(H.origin, task.origin);
  if (task.client !== null) h.set(H.client, encodeURIComponent(task.client));
  h.set(H.accepted, String(task.accepted));
  h.set(H.frames, String(task.payload.length));
  return h;
}

function required(h: MsgHdrs, name: string): string {
  const value = h.get(name);
  if (value === "") throw new TaskDecodeError(`task message lacks the ${name} header`);
  return value;
}

function optional(h: MsgHdrs, name: string): string | null {
  return h.has(name) ? h.get(name) : null;
}

function integer(name: string, text: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) throw new TaskDecodeError(`${name} header ${JSON.stringify(text)} is not an integer`);
  return Number(text);
}

function text(name: string, encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch (error) {
    throw new TaskDecodeError(`${name} header is not percent-encoded UTF-8`, { cause: error });
  }
}

/** The task in a stream message; throws TaskDecodeError for a message another tool wrote. */
export function decodeTask(h: MsgHdrs | undefined, body: Uint8Array): ClusterTask {
  if (h === undefined) throw new TaskDecodeError("task message has no headers (not written by ztb)");
  const format = optional(h, H.format);
  if (format !== TASK_FORMAT) throw new TaskDecodeError(`task message format ${JSON.stringify(format)}, this broker reads ${TASK_FORMAT}`);
  const key = optional(h, H.key);
  const timeout = optional(h, H.timeout);
  const attempts = optional(h, H.attempts);
  const client = optional(h, H.client);
  return {
    task: required(h, H.task),
    service: text(H.service, required(h, H.service)),
    key: key === null ? null : text(H.key, key),
    timeout: timeout === null ? null : integer(H.timeout, timeout),
    attempts: attempts === null ? null : integer(H.attempts, attempts),
    origin: required(h, H.origin),
    client: client === null ? null : text(H.client, client),
    accepted: integer(H.accepted, required(h, H.accepted)),
    payload: decodeFrames(body, integer(H.frames, required(h, H.frames))),
  };
}
