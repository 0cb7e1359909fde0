/**
 * Malformed messages per endpoint for the socket fuzz: a named catalogue of the classic mistakes (empty, no
 * delimiter, wrong signature, wrong version, truncated, unknown command, invalid JSON, schema violation, oversized
 * field) and seeded random frame lists built from protocol words and random octets. Every message returned here is
 * one the endpoint's decoder rejects, so the broker must count each one as malformed.
 */
import fc from "fast-check";
import { decodeAdmin, decodeAnswer, decodeClient, decodeWorker, ProtocolError } from "../../broker/src/codec";
import type { Endpoint } from "../../broker/src/core/api";
import type { Frame } from "../../broker/src/protocol/messages";

export type Frames = Buffer[];

const DECODERS: Record<Endpoint, (frames: Frame[]) => unknown> = {
  clients: decodeClient,
  workers: decodeWorker,
  answers: decodeAnswer,
  admin: decodeAdmin,
};

/** The codec's error code for these frames on this endpoint, or undefined when they decode. */
export function rejection(endpoint: Endpoint, frames: Frames): string | undefined {
  try {
    DECODERS[endpoint](frames);
    return undefined;
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
}

const b = (...texts: string[]): Frames => texts.map((text) => Buffer.from(text, "utf8"));

export const CATALOGUE: Record<Endpoint, Record<string, Frames>> = {
  clients: {
    // The delimiter alone is libzmq's connect notice on this endpoint (peer-hello), so the empty body comes by a hop.
    "empty body": b("hop", ""),
    "no delimiter": b("hello"),
    "wrong version": b("", "ZTBC09", "REQUEST", "{}"),
    truncated: b("", "ZTBC01", "REQUEST"),
    "unknown command": b("", "ZTBC01", "FETCH", "{}"),
    "invalid JSON": b("", "ZTBC01", "REQUEST", '{"service":'),
    "schema violation": b("", "ZTBC01", "REQUEST", '{"timeout":-5,"attempts":"3"}'),
    "reply sent to the broker": b("", "ZTBC01", "REPLY", '{"status":"succeeded","attempts":1,"elapsed":1}'),
  },
  workers: {
    "empty body": b(""),
    "no delimiter": b("ZTBW01", "READY", "{}"),
    "wrong signature": b("", "ZTBX01", "READY", "{}"),
    "wrong version": b("", "ZTBW02", "READY", "{}"),
    truncated: b("", "ZTBW01", "RESULT"),
    "unknown command": b("", "ZTBW01", "STEAL", "t-1"),
    "invalid JSON": b("", "ZTBW01", "READY", "{"),
    "schema violation": b("", "ZTBW01", "READY", '{"name":"","capacity":0,"heartbeat":1}'),
    "oversized task id": [Buffer.from(""), Buffer.from("ZTBW01"), Buffer.from("RESULT"), Buffer.alloc(256, 0x74)],
  },
  answers: {
    "empty task id": b("", "answer"),
    "oversized task id": [Buffer.alloc(256, 0x74), Buffer.from("answer")],
  },
  admin: {
    "empty body": b(""),
    "no delimiter": b("ZTBA01", "SNAPSHOT", "{}"),
    "wrong signature": b("", "ZTBW01", "SNAPSHOT", "{}"),
    "wrong version": b("", "ZTBA07", "SNAPSHOT", "{}"),
    truncated: b("", "ZTBA01", "INSPECT"),
    "unknown command": b("", "ZTBA01", "SHUTDOWN", "{}"),
    "invalid JSON": b("", "ZTBA01", "CANCEL", "{task"),
    "schema violation": b("", "ZTBA01", "SNAPSHOT", '{"tasks":{"limit":100000}}'),
  },
};

const WORDS = [
  "", "ZTBC01", "ZTBW01", "ZTBA01", "ZTBC02", "ZTBW99", "REQUEST", "CANCEL", "READY", "TASK", "RESULT", "FAIL",
  "HEARTBEAT", "DISCONNECT", "EXTEND", "SNAPSHOT", "SUBSCRIBE", "INSPECT", "RETRY", "DRAIN", "{}", "{", "[]", "null",
  '{"name":"x","capacity":1,"heartbeat":100}', '{"task":"t"}', '{"message":"m","retryable":true}', "1000", "0",
].map((word) => Buffer.from(word, "utf8"));

const frameArb = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.alloc(300, 0x41)),
);

/** `count` seeded random messages this endpoint's decoder rejects, each with its code. */
export function randomBadMessages(endpoint: Endpoint, count: number, seed: number): { frames: Frames; code: string }[] {
  const out: { frames: Frames; code: string }[] = [];
  const candidates = fc.sample(fc.array(frameArb, { minLength: 1, maxLength: 7 }), { seed, numRuns: count * 20 });
  for (const frames of candidates) {
    const code = rejection(endpoint, frames);
    if (code !== undefined) out.push({ frames, code });
    if (out.length === count) break;
  }
  return out;
}
