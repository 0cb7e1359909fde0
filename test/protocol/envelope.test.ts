/** The codec's answers for peers that must not read frame positions themselves (broker/src/codec/envelope.ts). */
import assert from "node:assert/strict";
import { claimedCommand, encodeClient, isClientSignature, isPlainFailure, oneHopPath, onlyHop } from "../../broker/src/codec";

const f = (text: string): Uint8Array => new TextEncoder().encode(text);
const EMPTY = new Uint8Array(0);

describe("codec: envelope questions", () => {
  it("claimedCommand names the command frame of a message the decoder may refuse", () => {
    assert.equal(claimedCommand([EMPTY, f("ZTBW01"), f("READY"), f("{not json")]), "READY");
    assert.equal(claimedCommand([EMPTY, f("ZTBW01")]), undefined);
    assert.equal(claimedCommand([f("x"), f("ZTBW01"), f("READY")]), undefined);
  });

  it("isClientSignature is ZTBC and two digits, any version", () => {
    assert.deepEqual(["ZTBC01", "ZTBC02", "ZTBC1", "ZTBCx1", "ZTBW01"].map((t) => isClientSignature(f(t))), [true, true, false, false, false]);
  });

  it("isPlainFailure is exactly one empty frame", () => {
    assert.equal(isPlainFailure([EMPTY]), true);
    assert.equal(isPlainFailure([EMPTY, EMPTY]), false);
    assert.equal(isPlainFailure([f("a")]), false);
    assert.equal(isPlainFailure([]), false);
  });

  it("a one-hop path round-trips through a plain request's frames", () => {
    const path = oneHopPath(f("corr-1"));
    assert.deepEqual(encodeClient({ type: "plain-request", path, payload: [f("p")] }), [f("corr-1"), EMPTY, f("p")]);
    assert.deepEqual(onlyHop(path), f("corr-1"));
    assert.equal(onlyHop([EMPTY]), undefined);
  });
});
