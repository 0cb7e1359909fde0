/** The task's layout in a stream message and the NATS names, without a server. */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { headers } from "@nats-io/transport-node";
import {
  clusterNames,
  ClusterConfigError,
  decodeFrames,
  decodeTask,
  encodeFrames,
  encodeHeaders,
  msgIdFor,
  resultKey,
  serviceToken,
  TaskDecodeError,
} from "../../broker/src/cluster";
import { task } from "./fixtures";

const SUBJECT_TOKEN = /^[A-Za-z0-9_~-]{1,64}$/;

describe("cluster: task records and names", () => {
  it("round-trips any frames through the body encoding", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (frames) => {
        const back = decodeFrames(encodeFrames(frames), frames.length);
        assert.deepEqual(back.map((f) => [...f]), frames.map((f) => [...f]));
      }),
    );
  });

  it("rejects every truncation of a body, and a frame count that disagrees", () => {
    const frames = [Buffer.from("ab"), Buffer.alloc(0), Buffer.from("cde")];
    const body = encodeFrames(frames);
    for (let cut = 0; cut < body.length; cut++) {
      assert.throws(() => decodeFrames(body.subarray(0, cut), frames.length), TaskDecodeError, `cut at ${cut}`);
    }
    assert.throws(() => decodeFrames(body, 2), TaskDecodeError);
  });

  it("round-trips a task's metadata through headers, with or without the optional members", () => {
    for (const sent of [
      task("a-1", { key: "k ✓\n", timeout: 1, attempts: 9, client: "\u0000x/y" }),
      task("a-2", { key: null, timeout: null, attempts: null, client: null, payload: [] }),
    ]) {
      const back = decodeTask(encodeHeaders(sent), encodeFrames(sent.payload));
      assert.deepEqual({ ...back, payload: back.payload.length }, { ...sent, payload: sent.payload.length });
    }
  });

  it("refuses a message another tool wrote: no headers, another format, a missing or non-integer header", () => {
    assert.throws(() => decodeTask(undefined, new Uint8Array()), TaskDecodeError);
    const other = headers();
    other.set("Ztb-Format", "2");
    assert.throws(() => decodeTask(other, new Uint8Array()), TaskDecodeError);
    const bad = encodeHeaders(task("t"));
    bad.set("Ztb-Timeout", "1e3");
    assert.throws(() => decodeTask(bad, encodeFrames(task("t").payload)), TaskDecodeError);
    const missing = encodeHeaders(task("t"));
    missing.delete("Ztb-Origin");
    assert.throws(() => decodeTask(missing, encodeFrames(task("t").payload)), TaskDecodeError);
  });

  it("turns any service name into one safe subject token, keeping ordinary names readable", () => {
    assert.equal(serviceToken("resize"), "resize");
    assert.equal(serviceToken("img_resize-2"), "img_resize-2");
    assert.equal(serviceToken("img.resize"), "img~2Eresize");
    assert.equal(serviceToken("a*>b c"), "a~2A~3Eb~20c");
    assert.match(serviceToken("é".repeat(64)), /^~h[0-9a-f]{40}$/);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 64 }), (a, b) => {
        assert.match(serviceToken(a), SUBJECT_TOKEN);
        // Injective (strings with lone surrogates aside: UTF-8 cannot carry them).
        if (a !== b && Buffer.from(a).toString() === a && Buffer.from(b).toString() === b) assert.notEqual(serviceToken(a), serviceToken(b));
      }),
    );
  });

  it("derives every name from the cluster name, refusing names that cannot be part of a stream name", () => {
    const names = clusterNames("prod-1");
    assert.equal(names.stream, "ZTB_prod-1_TASKS");
    assert.equal(names.taskSubject("img.resize"), "ztb.prod-1.task.img~2Eresize");
    assert.equal(names.consumer("img.resize"), "task_img~2Eresize");
    assert.equal(names.replySubject("b7"), "ztb.prod-1.reply.b7");
    assert.equal(names.maxDeliveriesSubject, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ZTB_prod-1_TASKS.*");
    for (const bad of ["", "a.b", "a b", "x".repeat(33)]) assert.throws(() => clusterNames(bad), ClusterConfigError);
    assert.throws(() => names.replySubject("a.b"), ClusterConfigError);
  });

  it("keeps a client's key and a generated id apart in Msg-Ids, and makes valid KV keys of any key", () => {
    assert.notEqual(msgIdFor({ key: "x" }), msgIdFor({ generated: "x" }));
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 128 }), (key) => {
        assert.match(resultKey(key), /^[-/_=.A-Za-z0-9]+$/);
        assert.match(msgIdFor({ key }), /^[\x21-\x7e]+$/);
      }),
    );
  });
});
