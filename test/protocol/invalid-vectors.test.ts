import * as assert from "node:assert/strict";
import { ProtocolError } from "../../broker/src/codec";
import { codecFor } from "./codecs";
import { loadVectors, octets } from "./vectors";

describe("invalid vectors are rejected with their error code", () => {
  for (const vector of loadVectors("invalid")) {
    it(`${vector.name}: ${vector.error}`, () => {
      const codec = codecFor(vector.endpoint, vector.direction);
      let thrown: unknown;
      try {
        codec.decode(octets(vector), vector.bounds);
      } catch (error) {
        thrown = error;
      }
      assert.ok(thrown instanceof ProtocolError, `expected a ProtocolError, got ${String(thrown)}`);
      assert.equal(thrown.code, vector.error, thrown.message);
    });
  }
});
