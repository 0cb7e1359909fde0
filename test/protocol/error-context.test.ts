import * as assert from "node:assert/strict";
import {
  ERROR_CODES,
  PEER_GONE_FRAME,
  ProtocolError,
  decodeAdmin,
  decodeAdminReply,
  decodeAnswer,
  decodeClient,
  decodeToWorker,
  decodeWorker,
  encodeToWorker,
  encodeWorker,
} from "../../broker/src/codec";
import type { Frame } from "../../broker/src/protocol/messages";
import { hexOf } from "./vectors";

const f = (text: string): Frame => new Uint8Array(Buffer.from(text, "utf8"));
const E = f("");
const HOP = new Uint8Array([0x00, 0x6b, 0x8b, 0x45, 0x67]);

function rejection(decode: () => unknown): ProtocolError {
  try {
    decode();
  } catch (error) {
    assert.ok(error instanceof ProtocolError, String(error));
    return error;
  }
  assert.fail("expected a ProtocolError");
}

describe("codec errors and limits", () => {
  it("ProtocolError is an Error named by class whose message starts with its code", () => {
    const error = rejection(() => decodeClient([]));
    assert.ok(error instanceof Error);
    assert.equal(error.name, "ProtocolError");
    assert.equal(error.code, "ZTB_ERR_EMPTY");
    assert.ok(error.message.startsWith("ZTB_ERR_EMPTY"));
    assert.equal(ERROR_CODES.length, new Set(ERROR_CODES).size);
  });

  it("carries the routing path and whether the sender spoke the enveloped protocol, so it can be answered", () => {
    const version = rejection(() => decodeClient([HOP, E, f("ZTBC02"), f("REQUEST"), f("{}")]));
    assert.equal(version.code, "ZTB_ERR_VERSION");
    assert.equal(version.enveloped, true);
    assert.equal(hexOf(version.path ?? []), hexOf([HOP, E]));

    const schema = rejection(() => decodeClient([E, f("ZTBC01"), f("REQUEST"), f('{"servce":"x"}')]));
    assert.equal(schema.code, "ZTB_ERR_SCHEMA");
    assert.equal(schema.enveloped, true);
    assert.equal(hexOf(schema.path ?? []), hexOf([E]));

    const noPayload = rejection(() => decodeClient([HOP, E]));
    assert.equal(noPayload.enveloped, false);
    assert.equal(hexOf(noPayload.path ?? []), hexOf([HOP, E]));

    const noDelimiter = rejection(() => decodeClient([f("ZTBC01"), f("REQUEST"), f("{}")]));
    assert.equal(noDelimiter.path, undefined);

    const signature = rejection(() => decodeWorker([E, f("ZTBC01"), f("READY"), f("{}")]));
    assert.equal(signature.code, "ZTB_ERR_SIGNATURE");
    assert.equal(signature.enveloped, false, "maybe a legacy peer: not to be sent DISCONNECT");

    const ready = rejection(() => decodeWorker([E, f("ZTBW01"), f("READY"), f("{}")]));
    assert.equal(ready.enveloped, true);

    const admin = rejection(() => decodeAdmin([E, f("SNAPSHOT"), f("{}")]));
    assert.equal(admin.code, "ZTB_ERR_SIGNATURE");
    assert.equal(hexOf(admin.path ?? []), hexOf([E]), "ERROR malformed goes back on this path");
  });

  it("bounds JSON frames sent to the broker to 64 KiB, but not what the broker sends", () => {
    const big = (octets: number): Frame => f(`{"message":"${"m".repeat(octets - 31)}","retryable":true}`);
    assert.equal(big(65536).length, 65536);
    // 65536 octets pass the size check and then fail the schema (message over 1024 characters).
    assert.equal(rejection(() => decodeWorker([E, f("ZTBW01"), f("FAIL"), f("t"), big(65536)])).code, "ZTB_ERR_SCHEMA");
    assert.equal(rejection(() => decodeWorker([E, f("ZTBW01"), f("FAIL"), f("t"), big(65537)])).code, "ZTB_ERR_TOO_LARGE");
    const ack = f(JSON.stringify({ note: "n".repeat(100000) }));
    assert.equal(decodeAdminReply([E, f("ZTBA01"), f("ACK"), ack]).type, "ack");
  });

  it("accepts task ids of 1 and 255 octets, and intervals of 6 digits", () => {
    for (const task of [f("t"), new Uint8Array(255).fill(0xff)]) {
      const msg = decodeWorker([E, f("ZTBW01"), f("RESULT"), task]);
      assert.ok(msg.type === "result" && msg.task === task, "the task id frame is passed through, not copied");
      assert.equal(decodeAnswer([task]).task, task);
    }
    assert.deepEqual(decodeWorker([E, f("ZTBW01"), f("HEARTBEAT"), f("999999")]), { type: "heartbeat", interval: 999999 });
    assert.deepEqual(decodeToWorker([E, f("ZTBW01"), f("HEARTBEAT"), f("1")]), { type: "heartbeat", interval: 1 });
  });

  it("turns libzmq's disconnect notification into peer-gone on the ROUTER endpoints", () => {
    assert.equal(Buffer.from(PEER_GONE_FRAME).toString("latin1"), "\x00ZTB-PEER-GONE");
    assert.deepEqual(decodeWorker([PEER_GONE_FRAME]), { type: "peer-gone" });
    assert.deepEqual(decodeClient([new Uint8Array(PEER_GONE_FRAME)]), { type: "peer-gone" });
    assert.deepEqual(decodeAdmin([PEER_GONE_FRAME]), { type: "peer-gone" });
    // After a delimiter it is just a frame: a legacy request for work.
    assert.equal(decodeWorker([E, PEER_GONE_FRAME]).type, "legacy-ready");
    assert.equal(hexOf(encodeWorker({ type: "peer-gone" })), hexOf([PEER_GONE_FRAME]));
  });

  it("reads Buffers that are slices of a larger allocation, as zeromq.js hands them out", () => {
    const pool = Buffer.from("..ZTBW01HEARTBEAT2500..");
    const frames = [Buffer.alloc(0), pool.subarray(2, 8), pool.subarray(8, 17), pool.subarray(17, 21)];
    assert.deepEqual(decodeWorker(frames), { type: "heartbeat", interval: 2500 });
  });

  it("encodes the broker's HEARTBEAT and DISCONNECT without a detail frame as the spec shows them", () => {
    assert.equal(hexOf(encodeToWorker({ type: "heartbeat", interval: 2500 })), hexOf([E, f("ZTBW01"), f("HEARTBEAT"), f("2500")]));
    assert.equal(hexOf(encodeToWorker({ type: "disconnect" })), hexOf([E, f("ZTBW01"), f("DISCONNECT")]));
  });

  it("refuses a whole message over its bounds first, answering its path only when the path itself is within them", () => {
    const bounds = { maxOctets: 64, maxFrames: 8 };
    const many = rejection(() => decodeClient([HOP, E, f("ZTBC01"), f("REQUEST"), f("{}"), E, E, E, E], bounds));
    assert.deepEqual([many.code, many.enveloped, hexOf(many.path ?? [])], ["ZTB_ERR_TOO_LARGE", true, hexOf([HOP, E])]);
    // Each frame is small; together they are over 64 octets. Plain: answered on its path, not enveloped.
    const big = rejection(() => decodeClient([E, f("a".repeat(40)), f("b".repeat(40))], bounds));
    assert.deepEqual([big.code, big.enveloped, hexOf(big.path ?? [])], ["ZTB_ERR_TOO_LARGE", false, hexOf([E])]);
    // A path that ends past the frame bound, or is itself over the octet bound, is not echoed back.
    const hops = Array.from({ length: 8 }, () => HOP);
    const longPath = rejection(() => decodeWorker([...hops, E, f("requesting task")], bounds));
    assert.deepEqual([longPath.code, longPath.path], ["ZTB_ERR_TOO_LARGE", undefined]);
    const fatPath = rejection(() => decodeAdmin([f("h".repeat(65)), E, f("ZTBA01"), f("SNAPSHOT"), f("{}")], bounds));
    assert.deepEqual([fatPath.code, fatPath.path], ["ZTB_ERR_TOO_LARGE", undefined]);
    // Exactly at both bounds is accepted.
    assert.equal(decodeClient([E, f("x".repeat(63)), E, E, E, E, E, E], bounds).type, "plain-request");
  });
});
