import assert from "node:assert/strict";
import { curveKeyPair } from "zeromq";
import { isZ85Key, z85Decode, z85Encode } from "../../broker/src/security/z85";

describe("Z85 (RFC 32)", () => {
  it("encodes and decodes the RFC's test vector", () => {
    const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    assert.equal(z85Encode(bytes), "HelloWorld");
    assert.deepEqual(z85Decode("HelloWorld"), bytes);
  });

  it("round-trips libzmq's keys", () => {
    const { publicKey, secretKey } = curveKeyPair();
    for (const key of [publicKey, secretKey]) {
      const raw = z85Decode(key);
      assert.equal(raw?.length, 32);
      assert.equal(z85Encode(raw ?? new Uint8Array()), key);
      assert.ok(isZ85Key(key));
    }
  });

  it("rejects text that is not Z85", () => {
    assert.equal(z85Decode("HelloWorl"), undefined, "length not a multiple of 5");
    assert.equal(z85Decode("Hell~"), undefined, "character outside the alphabet");
    assert.equal(z85Decode("%%%%%"), undefined, "group above 2^32-1");
    assert.throws(() => z85Encode(new Uint8Array(3)), RangeError);
    assert.ok(!isZ85Key("HelloWorld"), "right alphabet, wrong length");
  });
});
