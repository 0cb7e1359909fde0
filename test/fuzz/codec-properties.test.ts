/**
 * Codec properties the byte-level fuzz of test/protocol/decoder-robustness.test.ts does not reach: JSON frames that
 * parse but have random shapes (objects built from the protocol's own member names with values of any type), in the
 * JSON position of every command the broker receives. Decoding throws only ProtocolError with a listed code, and
 * whatever decodes re-encodes to frames that decode to the same message.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeAdmin,
  decodeClient,
  decodeWorker,
  encodeAdmin,
  encodeClient,
  encodeWorker,
  ERROR_CODES,
  ProtocolError,
} from "../../broker/src/codec";
import type { Frame } from "../../broker/src/protocol/messages";

const MEMBERS = [
  "service", "timeout", "attempts", "id", "name", "services", "capacity", "heartbeat", "message", "retryable",
  "reason", "tasks", "state", "offset", "limit", "lease", "task", "worker", "drain", "__proto__", "constructor",
];
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.integer({ min: -2, max: 70_000 }),
  fc.constantFrom("default", "bye", "timeout", "queued", "w1", "", "x".repeat(129)),
  fc.array(fc.constantFrom("a", "", "default"), { maxLength: 40 }),
);
const shaped = fc.dictionary(fc.constantFrom(...MEMBERS), value, { maxKeys: 5 }).map((o) => JSON.stringify(o));
const jsonFrame = fc.oneof(shaped, fc.jsonValue().map((v) => JSON.stringify(v)));

interface Target {
  name: string;
  prefix: string[];
  decode: (frames: Frame[]) => unknown;
  encode: (msg: never) => Frame[];
}
const TARGETS: Target[] = [
  ...["REQUEST", "CANCEL"].map((c) => ({ name: `clients ${c}`, prefix: ["", "ZTBC01", c], decode: decodeClient, encode: encodeClient })),
  ...["READY", "DISCONNECT"].map((c) => ({ name: `workers ${c}`, prefix: ["", "ZTBW01", c], decode: decodeWorker, encode: encodeWorker })),
  ...["FAIL", "EXTEND"].map((c) => ({ name: `workers ${c}`, prefix: ["", "ZTBW01", c, "t-1"], decode: decodeWorker, encode: encodeWorker })),
  ...["SNAPSHOT", "SUBSCRIBE", "INSPECT", "CANCEL", "RETRY", "DRAIN"].map((c) => ({
    name: `admin ${c}`,
    prefix: ["", "ZTBA01", c],
    decode: decodeAdmin,
    encode: encodeAdmin,
  })),
];

const frames = (texts: string[]): Frame[] => texts.map((t) => new Uint8Array(Buffer.from(t, "utf8")));

describe("codec properties: JSON frames of random shape", () => {
  let accepted = 0;
  for (const target of TARGETS) {
    it(`${target.name}: only ProtocolError, and what decodes round-trips`, () => {
      fc.assert(
        fc.property(jsonFrame, (json) => {
          let message: unknown;
          try {
            message = target.decode(frames([...target.prefix, json]));
          } catch (error) {
            assert.ok(error instanceof ProtocolError && (ERROR_CODES as readonly string[]).includes(error.code), String(error));
            return;
          }
          accepted++;
          assert.deepEqual(target.decode(target.encode(message as never)), message);
        }),
        { seed: 4161, numRuns: 600 },
      );
    });
  }

  it("the generator reaches valid messages too, so the round trip above is exercised", () => {
    assert.ok(accepted > 100, `${accepted} random JSON frames decoded`);
  });
});
