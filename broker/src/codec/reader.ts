/**
 * Checked access to a received message's frames. Every decoder reads through these, so a short, long or
 * malformed message can only ever end in a ProtocolError carrying its code (protocol/spec.md §Error codes).
 *
 * `d` is the index of the delimiter that ends the routing path (-1 on the PULL answers endpoint, which has none);
 * `enveloped` says whether the sender's signature was recognised (see ProtocolError.enveloped).
 */
import type { Frame } from "../protocol/messages";
import { ProtocolError, type ErrorCode } from "./errors";
import { MAX_INTERVAL_DIGITS, MAX_TASK_ID_OCTETS, type MessageBounds } from "../protocol/limits";
import { EMPTY_FRAME, FAMILY, matchSignature, parseDigits } from "./octets";
import type { Validator } from "./schemas";
import { strictJsonViolation } from "./strict-json";

export { MAX_JSON_TO_BROKER } from "../protocol/limits";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();

export function malformed(
  code: ErrorCode,
  message: string,
  frames: readonly Frame[],
  d: number,
  enveloped: boolean,
  cause?: unknown,
): ProtocolError {
  return new ProtocolError(code, message, { path: d >= 0 ? frames.slice(0, d + 1) : undefined, enveloped, cause });
}

/**
 * Refuses a whole message over `bounds` (protocol/spec.md §Limits) before anything else is read from it: frame count
 * first (it is known without touching the frames), then total octets. The error still says whom to answer, so the
 * receiver can reply as for any malformed message, but only when that answer is itself small: the routing path must
 * end within the first `maxFrames` frames and hold at most `maxOctets` octets, or the message is only counted and
 * dropped (echoing a 200 000-frame path would hand the amplification back to the broker's send side). The answer is
 * enveloped when the frame after the delimiter carries `family`'s signature, in any version.
 */
export function checkBounds(frames: readonly Frame[], bounds: MessageBounds, family: keyof typeof FAMILY | undefined): void {
  let over: string | undefined;
  if (frames.length > bounds.maxFrames) {
    over = `${frames.length} frames (max ${bounds.maxFrames})`;
  } else {
    let octets = 0;
    for (const frame of frames) octets += frame.length;
    if (octets > bounds.maxOctets) over = `${octets} octets (max ${bounds.maxOctets})`;
  }
  if (over === undefined) return;
  const message = `a message of ${over}`;
  if (family === undefined) throw new ProtocolError("ZTB_ERR_TOO_LARGE", message);
  let pathOctets = 0;
  const end = Math.min(frames.length, bounds.maxFrames);
  for (let d = 0; d < end; d++) {
    const frame = frames[d] as Frame;
    pathOctets += frame.length;
    if (pathOctets > bounds.maxOctets) break;
    if (frame.length > 0) continue;
    const first = frames[d + 1];
    const enveloped = first !== undefined && matchSignature(first, FAMILY[family]) !== "none";
    throw malformed("ZTB_ERR_TOO_LARGE", message, frames, d, enveloped);
  }
  throw new ProtocolError("ZTB_ERR_TOO_LARGE", message);
}

/** The index of the first empty frame: the end of the routing path (§Envelopes). */
export function delimiterIndex(frames: readonly Frame[]): number {
  if (frames.length === 0) throw new ProtocolError("ZTB_ERR_EMPTY", "a message with no frames");
  for (let i = 0; i < frames.length; i++) if (frames[i]?.length === 0) return i;
  throw new ProtocolError("ZTB_ERR_DELIMITER", "no empty delimiter frame ends the routing path");
}

/**
 * The path of a peer connected directly (REQ, DEALER): only the empty delimiter. One shared, frozen array, so a
 * queued request does not keep its own copy of an empty frame (each received frame has its own backing store).
 */
const DIRECT_PATH: readonly Frame[] = Object.freeze([EMPTY_FRAME]);

/** The routing path, frames 0..d (§Envelopes); the common direct path is a shared constant (never mutate it). */
export function routingPath(frames: readonly Frame[], d: number): readonly Frame[] {
  return d === 0 ? DIRECT_PATH : frames.slice(0, d + 1);
}

/** The first frame after the delimiter: a signature, or the first frame of a plain message (§Envelopes). */
export function afterDelimiter(frames: readonly Frame[], d: number): Frame {
  const first = frames[d + 1];
  if (first === undefined) throw malformed("ZTB_ERR_MISSING_FRAME", "no frame after the delimiter", frames, d, false);
  return first;
}

/**
 * Whether `frame` is the v1 signature of `family` (§Signatures). False when it is no signature at all (the caller
 * decides what that is: a plain message, or ZTB_ERR_SIGNATURE); another version of it is ZTB_ERR_VERSION.
 */
export function isSignature(frame: Frame, family: keyof typeof FAMILY, frames: readonly Frame[], d: number): boolean {
  const signature = matchSignature(frame, FAMILY[family]);
  if (signature === "other-version") throw malformed("ZTB_ERR_VERSION", `unsupported ${family} protocol version`, frames, d, true);
  return signature !== "none";
}

export function need(frames: readonly Frame[], i: number, what: string, d: number, enveloped: boolean): Frame {
  const frame = frames[i];
  if (frame === undefined) throw malformed("ZTB_ERR_MISSING_FRAME", `missing ${what}`, frames, d, enveloped);
  return frame;
}

export function noMore(frames: readonly Frame[], count: number, what: string, d: number, enveloped: boolean): void {
  if (frames.length > count) {
    throw malformed("ZTB_ERR_EXTRA_FRAME", `${frames.length - count} frame(s) after ${what}`, frames, d, enveloped);
  }
}

export function taskIdAt(frames: readonly Frame[], i: number, d: number, enveloped: boolean): Frame {
  const task = need(frames, i, "task id", d, enveloped);
  if (task.length === 0) throw malformed("ZTB_ERR_MISSING_FRAME", "empty task id", frames, d, enveloped);
  if (task.length > MAX_TASK_ID_OCTETS) {
    throw malformed("ZTB_ERR_TOO_LARGE", `task id of ${task.length} octets (max ${MAX_TASK_ID_OCTETS})`, frames, d, enveloped);
  }
  return task;
}

export function intervalAt(frames: readonly Frame[], i: number, d: number): number {
  const frame = need(frames, i, "heartbeat interval", d, true);
  if (frame.length > MAX_INTERVAL_DIGITS) {
    throw malformed("ZTB_ERR_TOO_LARGE", `heartbeat interval of ${frame.length} octets (max ${MAX_INTERVAL_DIGITS} digits)`, frames, d, true);
  }
  const interval = parseDigits(frame);
  if (interval === undefined) {
    throw malformed("ZTB_ERR_SCHEMA", "heartbeat interval is not decimal digits without a leading zero", frames, d, true);
  }
  return interval;
}

/** Parses and validates one JSON frame; `limit` bounds its octets (undefined: no bound, for what the broker sent). */
export function jsonAt<T>(
  frames: readonly Frame[],
  i: number,
  validate: Validator<T>,
  what: string,
  d: number,
  limit: number | undefined,
): T {
  const frame = need(frames, i, what, d, true);
  if (limit !== undefined && frame.length > limit) {
    throw malformed("ZTB_ERR_TOO_LARGE", `${what} of ${frame.length} octets (max ${limit})`, frames, d, true);
  }
  let value: unknown;
  let text: string;
  try {
    text = strictUtf8.decode(frame);
    value = JSON.parse(text);
  } catch (cause) {
    throw malformed("ZTB_ERR_BAD_JSON", `${what} is not UTF-8 JSON`, frames, d, true, cause);
  }
  // JSON sent to the broker (it has a size limit) is held to the spec's stricter spelling.
  const violation = limit === undefined ? undefined : strictJsonViolation(text);
  if (violation !== undefined) throw malformed("ZTB_ERR_SCHEMA", `${what}: ${violation}`, frames, d, true);
  let valid: boolean;
  try {
    valid = validate(value);
  } catch (cause) {
    // Only pathological values (e.g. nesting deep enough to exhaust the stack) get here.
    throw malformed("ZTB_ERR_SCHEMA", `${what} could not be validated`, frames, d, true, cause);
  }
  if (!valid) {
    const first = validate.errors?.[0];
    const where = first === undefined ? "" : `${first.instancePath || "/"} ${first.message ?? "is invalid"}`;
    throw malformed("ZTB_ERR_SCHEMA", `${what}: ${where}`, frames, d, true);
  }
  return value as T;
}

/** Compact JSON, members in the order the object holds them, so vectors round-trip octet for octet. */
export function jsonFrame(value: unknown): Frame {
  return utf8.encode(JSON.stringify(value));
}
