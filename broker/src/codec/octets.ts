/**
 * Octet-level building blocks of the codec (protocol/spec.md §Framing): constant frames, signature and command
 * matching without decoding strings, task ids and heartbeat intervals. Only the codec indexes into frames.
 */
import type { Frame } from "../protocol/messages";
import { SIGNATURE } from "../protocol/messages";

const utf8 = new TextEncoder();

/** Shared constant frames: never mutate them (they go out in many messages). */
export const EMPTY_FRAME: Frame = new Uint8Array(0);

/**
 * What libzmq delivers from a peer's routing id when its connection drops (ZMQ_DISCONNECT_MSG, draft option 111);
 * the leading NUL keeps it apart from anything a well-behaved peer sends (§Dead workers).
 */
export const PEER_GONE_FRAME: Frame = utf8.encode("\x00ZTB-PEER-GONE");

export const SIGNATURE_FRAME = {
  client: utf8.encode(SIGNATURE.client),
  worker: utf8.encode(SIGNATURE.worker),
  admin: utf8.encode(SIGNATURE.admin),
} as const;

const COMMAND_NAMES = [
  "REQUEST", "CANCEL", "REPLY",
  "READY", "TASK", "RESULT", "FAIL", "HEARTBEAT", "DISCONNECT", "EXTEND",
  "SNAPSHOT", "SUBSCRIBE", "INSPECT", "RETRY", "DRAIN", "DELETE", "ACK", "ERROR", "EVENT",
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export const COMMAND_FRAME = Object.fromEntries(COMMAND_NAMES.map((name) => [name, utf8.encode(name)])) as Record<
  CommandName,
  Frame
>;

export function sameOctets(a: Frame, b: Frame): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export type CommandTable<N extends CommandName> = readonly { readonly name: N; readonly octets: Frame }[];

/** The commands one endpoint accepts in one direction. */
export function commandTable<N extends CommandName>(names: readonly N[]): CommandTable<N> {
  return names.map((name) => ({ name, octets: COMMAND_FRAME[name] }));
}

export function findCommand<N extends CommandName>(table: CommandTable<N>, frame: Frame): N | undefined {
  for (const entry of table) if (sameOctets(entry.octets, frame)) return entry.name;
  return undefined;
}

export type SignatureMatch = "v1" | "other-version" | "none";

/** Family letters of the signatures `ZTBC01`, `ZTBW01`, `ZTBA01`. */
export const FAMILY = { client: 0x43, worker: 0x57, admin: 0x41 } as const;

/** `ZTB<family><digit><digit>`: "v1" for 01, "other-version" for any other two digits (§Signatures). */
export function matchSignature(frame: Frame, family: number): SignatureMatch {
  if (frame.length !== 6 || frame[0] !== 0x5a || frame[1] !== 0x54 || frame[2] !== 0x42 || frame[3] !== family) {
    return "none";
  }
  const tens = frame[4] ?? 0;
  const ones = frame[5] ?? 0;
  if (tens < 0x30 || tens > 0x39 || ones < 0x30 || ones > 0x39) return "none";
  return tens === 0x30 && ones === 0x31 ? "v1" : "other-version";
}

/**
 * What a ROUTER with ZMQ_ROUTER_NOTIFY (draft option 97, connect only) delivers from a peer's routing id when it
 * connects: the delimiter alone. The broker turns it on for the clients endpoint only, where a request always has a
 * body after the delimiter (§Durability: replies to clients that reconnect).
 */
export function isPeerHello(frames: readonly Frame[]): boolean {
  return frames.length === 1 && frames[0]?.length === 0;
}

/** The routing id of a ROUTER's connect notice (ZMQ_ROUTER_NOTIFY: the id, then one empty frame), else undefined. */
export function connectNoticeId(frames: readonly Frame[]): Frame | undefined {
  return frames.length === 2 && isPeerHello(frames.slice(1)) ? frames[0] : undefined;
}

export function isPeerGone(frames: readonly Frame[]): boolean {
  const only = frames[0];
  return frames.length === 1 && only !== undefined && sameOctets(only, PEER_GONE_FRAME);
}

/** Parses canonical decimal digits (no sign, no leading zero); undefined when the frame is not that. */
export function parseDigits(frame: Frame): number | undefined {
  if (frame.length === 0 || frame[0] === 0x30) return undefined;
  let value = 0;
  for (let i = 0; i < frame.length; i++) {
    const digit = (frame[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

export function digitsFrame(value: number): Frame {
  return utf8.encode(String(value));
}
