import * as assert from "node:assert/strict";
import { frameView } from "../../broker/src/codec";

const bytes = (...octets: number[]): Uint8Array => new Uint8Array(octets);
const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "utf8"));

describe("frameView", () => {
  it("shows printable UTF-8 as text, tab, line feed and carriage return included", () => {
    assert.deepEqual(frameView(utf8("hello")), { text: "hello" });
    assert.deepEqual(frameView(utf8("héllo ✓ 🦀")), { text: "héllo ✓ 🦀" });
    assert.deepEqual(frameView(utf8("a\tb\nc\r")), { text: "a\tb\nc\r" });
    assert.deepEqual(frameView(new Uint8Array(0)), { text: "" });
  });

  it("shows control characters and invalid UTF-8 as lower-case hex", () => {
    assert.deepEqual(frameView(bytes(0x00, 0x41)), { hex: "0041" });
    assert.deepEqual(frameView(bytes(0x41, 0x7f)), { hex: "417f" });
    assert.deepEqual(frameView(utf8("a\u0085")), { hex: "61c285" });
    assert.deepEqual(frameView(bytes(0xff, 0xfe, 0xab)), { hex: "fffeab" });
    assert.deepEqual(frameView(bytes(0xed, 0xa0, 0x80)), { hex: "eda080" }); // an encoded surrogate is not UTF-8
  });

  it("shows at most max octets", () => {
    assert.deepEqual(frameView(utf8("abcdef"), 3), { text: "abc" });
    assert.deepEqual(frameView(bytes(0, 1, 2, 3), 2), { hex: "0001" });
    assert.deepEqual(frameView(utf8("abc"), 64), { text: "abc" });
    assert.deepEqual(frameView(utf8("abc"), 0), { text: "" });
  });

  it("drops a UTF-8 character that the cut splits instead of falling back to hex", () => {
    assert.deepEqual(frameView(utf8("aé"), 2), { text: "a" });
    assert.deepEqual(frameView(utf8("a✓b"), 3), { text: "a" });
    assert.deepEqual(frameView(utf8("a✓b"), 4), { text: "a✓" });
    assert.deepEqual(frameView(utf8("ab🦀"), 5), { text: "ab" });
    assert.deepEqual(frameView(utf8("é"), 1), { text: "" });
  });

  it("still shows hex when the octets before the cut are not UTF-8", () => {
    assert.deepEqual(frameView(bytes(0xff, 0x41, 0x42), 2), { hex: "ff41" });
    assert.deepEqual(frameView(bytes(0x41, 0x80, 0x80, 0x80, 0x80, 0x41), 4), { hex: "41808080" });
  });

  it("reads a Buffer that is a slice of a larger allocation", () => {
    const pool = Buffer.from("xxhelloyy");
    assert.deepEqual(frameView(pool.subarray(2, 7)), { text: "hello" });
  });
});
