import * as assert from "node:assert/strict";
import fc from "fast-check";
import { ERROR_CODES, ProtocolError } from "../../broker/src/codec";
import type { Frame } from "../../broker/src/protocol/messages";
import { CODECS } from "./codecs";
import { loadVectors, octets } from "./vectors";

const DECODERS = Object.entries(CODECS).map(([name, codec]) => ({ name, decode: codec.decode }));
const CODES: readonly string[] = ERROR_CODES;

/** Decoding may succeed or throw a ProtocolError with a listed code; anything else fails the test. */
function decodeAll(frames: Frame[]): void {
  for (const { name, decode } of DECODERS) {
    try {
      const message = decode(frames);
      assert.equal(typeof message.type, "string");
    } catch (error) {
      if (!(error instanceof ProtocolError) || !CODES.includes(error.code)) {
        throw new Error(`${name} threw ${String(error)} for ${JSON.stringify(frames.map((f) => Buffer.from(f).toString("hex")))}`);
      }
    }
  }
}

const utf8 = (text: string): Frame => new Uint8Array(Buffer.from(text, "utf8"));
const INTERESTING: Frame[] = [
  "", "ZTBC01", "ZTBW01", "ZTBA01", "ZTBC02", "ZTBW99", "ZTBA00", "ZTBX01",
  "REQUEST", "CANCEL", "REPLY", "READY", "TASK", "RESULT", "FAIL", "HEARTBEAT", "DISCONNECT", "EXTEND",
  "SNAPSHOT", "SUBSCRIBE", "INSPECT", "RETRY", "DRAIN", "DELETE", "ACK", "ERROR", "EVENT", "\x00ZTB-PEER-GONE",
  "{}", "[]", "{", "null", "\"x\"", "1e400", '{"__proto__":{"x":1}}', '{"constructor":1}',
  '{"name":"w","capacity":1,"heartbeat":100}', '{"task":"t"}', '{"worker":"w1","drain":false}', '{"lease":1000}',
  '{"reason":"bye"}', '{"reason":"timeout"}', '{"message":"m","retryable":true}', '{"timeout":5}', '{"id":"r"}',
  '{"service":"s","attempt":1,"attempts":null,"timeout":null}',
  '{"status":"failed","reason":"malformed","attempts":0,"elapsed":0,"error":"ZTB_ERR_SCHEMA"}',
  '{"code":"bad-state","message":"m"}', '{"tasks":{"limit":500}}',
  "1000", "0", "999999", "1234567", "k3f9q2-1a", "t".repeat(256),
].map(utf8);
const frameArb = fc.oneof(fc.constantFrom(...INTERESTING), fc.uint8Array({ maxLength: 16 }));
const framesArb = fc.array(frameArb, { maxLength: 8 });

describe("decoders only ever throw ProtocolError", () => {
  const valid = loadVectors("valid");

  it("for every truncation of every valid vector, at frame and octet boundaries, in every decoder", () => {
    let cases = 0;
    for (const vector of valid) {
      const frames = octets(vector);
      for (let count = 0; count <= frames.length; count++) {
        decodeAll(frames.slice(0, count));
        cases++;
        const last = frames[count];
        if (last === undefined) continue;
        for (let cut = 0; cut < last.length; cut++) {
          decodeAll([...frames.slice(0, count), last.subarray(0, cut)]);
          cases++;
        }
      }
    }
    assert.ok(cases > 1000, `${cases} truncations`);
  });

  it("for seeded random frame lists built from protocol words and random octets", () => {
    fc.assert(fc.property(framesArb, (frames) => decodeAll(frames)), { seed: 20101, numRuns: 3000 });
  });

  it("for seeded random mutations of valid vectors (replace, drop, insert a frame, flip an octet)", () => {
    const mutation = fc.record({
      vector: fc.nat({ max: valid.length - 1 }),
      at: fc.nat(),
      op: fc.constantFrom("replace", "drop", "insert", "flip"),
      frame: frameArb,
      octet: fc.nat(),
      bit: fc.nat({ max: 7 }),
    });
    fc.assert(
      fc.property(mutation, (m) => {
        const source = valid[m.vector];
        assert.ok(source);
        const frames: Frame[] = octets(source).map((f) => new Uint8Array(f));
        const i = frames.length === 0 ? 0 : m.at % frames.length;
        if (m.op === "replace") frames[i] = m.frame;
        else if (m.op === "drop") frames.splice(i, 1);
        else if (m.op === "insert") frames.splice(i, 0, m.frame);
        else {
          const target = frames[i];
          if (target !== undefined && target.length > 0) {
            const at = m.octet % target.length;
            target[at] = (target[at] ?? 0) ^ (1 << m.bit);
          }
        }
        decodeAll(frames);
      }),
      { seed: 20102, numRuns: 3000 },
    );
  });

  it("for deeply nested JSON", () => {
    const deep = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);
    decodeAll([utf8(""), utf8("ZTBC01"), utf8("REQUEST"), utf8(`{"service":${deep(30000)}}`)]);
    decodeAll([utf8(""), utf8("ZTBA01"), utf8("ACK"), utf8(`{"extra":${deep(200000)}}`)]);
    decodeAll([utf8(""), utf8("ZTBA01"), utf8("ACK"), utf8(deep(200000))]);
  });
});
