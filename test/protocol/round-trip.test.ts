import * as assert from "node:assert/strict";
import { codecFor } from "./codecs";
import { hexOf, loadVectors, octets } from "./vectors";

describe("valid vectors round-trip through the codec", () => {
  for (const vector of loadVectors("valid")) {
    it(`${vector.name} decodes to ${vector.command} and re-encodes to the same octets`, () => {
      const codec = codecFor(vector.endpoint, vector.direction);
      const frames = octets(vector);
      assert.equal(codec.decode(frames).type, vector.command.toLowerCase());
      assert.equal(hexOf(codec.encodeDecoded(frames)), hexOf(frames));
    });
  }
});
