import assert from "node:assert/strict";
import { formatInspection, formatReply, groupHex, replyDocumentName } from "../../extension/src/requests/reply-document";
import { fromFrameView, toFrameView } from "../../extension/src/model/frame-view";
import { frameView } from "../../broker/src/codec";
import { T0, task } from "./fixtures";

describe("extension reply formatting", () => {
  it("formats a succeeded reply with worker, attempts, timings and frames as text or hex", () => {
    const text = formatReply({
      title: "requests.ztb#1 Say hello",
      detail: { status: "succeeded", attempts: 2, worker: "test-1", elapsed: 1234, task: "k3f9q2-1a" },
      frames: [{ text: "hello" }, { hex: "000102" }],
      roundTrip: 1240,
    });
    assert.equal(
      text,
      [
        "Reply to requests.ztb#1 Say hello",
        "",
        "Status:      ✔ succeeded",
        "Task:        k3f9q2-1a",
        "Attempts:    2",
        "Worker:      test-1",
        "Broker time: 1.2 s",
        "Round trip:  1.2 s",
        "",
        "Frames: 2",
        "",
        "── frame 1 · 5 bytes · text ──",
        "hello",
        "",
        "── frame 2 · 3 bytes · hex ──",
        "00 01 02",
        "",
      ].join("\n"),
    );
  });

  it("formats a failure with its reason explained and the message", () => {
    const text = formatReply({
      title: "x",
      detail: { status: "failed", reason: "timeout", message: "3 attempts", attempts: 3, elapsed: 6000 },
      frames: [],
      roundTrip: 6003,
    });
    assert.match(text, /^Status: {6}✘ failed \(timeout\)$/m);
    assert.match(text, /^Reason: {6}the last attempt timed out$/m);
    assert.match(text, /^Message: {5}3 attempts$/m);
    assert.match(text, /^Frames: 0$/m);
  });

  it("formats an inspection for Show Reply", () => {
    const text = formatInspection({
      task: task("t1", { state: "failed", reason: "worker-failed", message: "boom", attempt: 1, finishedAt: T0 + 50 }),
      request: [{ text: "x" }],
      truncated: true,
    });
    assert.match(text, /^State: {7}failed$/m);
    assert.match(text, /worker-failed — the worker reported a failure/);
    assert.match(text, /No reply frames/);
    assert.match(text, /truncated/);
  });

  it("names the worker of an inspection as the trees do, by name", () => {
    const inspection = { task: task("t2", { state: "succeeded", worker: "w3", attempt: 1 }), request: [{ text: "x" }], reply: [] };
    const names: Record<string, string> = { w3: "test-1" };
    assert.match(formatInspection(inspection, (id) => names[id] ?? id), /^Worker: {6}test-1$/m);
    assert.match(formatInspection(inspection), /^Worker: {6}w3$/m);
  });

  it("names reply documents with one .txt", () => {
    assert.equal(replyDocumentName("notes.txt"), "reply-notes.txt");
    assert.equal(replyDocumentName("sample.ztb#1 Say hello"), "reply-sample.ztb#1 Say hello.txt");
    assert.equal(replyDocumentName("dir/readme.md"), "reply-readme.md.txt");
  });

  it("groups hex 16 bytes per line", () => {
    assert.equal(groupHex("00".repeat(17)), `${"00 ".repeat(15)}00\n00`);
  });

  it("shows printable UTF-8 as text, anything else as hex, and back", () => {
    assert.deepEqual(toFrameView(new TextEncoder().encode("héllo\n\tok")), { text: "héllo\n\tok" });
    assert.deepEqual(toFrameView(new Uint8Array([0xff, 0xfe])), { hex: "fffe" });
    assert.deepEqual(toFrameView(new Uint8Array([0x41, 0x00])), { hex: "4100" });
    assert.deepEqual([...fromFrameView({ hex: "4100" })], [0x41, 0]);
    assert.deepEqual([...fromFrameView({ text: "é" })], [0xc3, 0xa9]);
  });

  it("shows frames by the codec's rule: a C1 control is hex, a leading BOM stays and round-trips", () => {
    const c1 = new Uint8Array([0x61, 0xc2, 0x85]);
    assert.deepEqual(toFrameView(c1), frameView(c1));
    assert.deepEqual(toFrameView(c1), { hex: "61c285" });
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x61]);
    assert.deepEqual(toFrameView(bom), { text: "\ufeffa" });
    assert.deepEqual([...fromFrameView(toFrameView(bom))], [...bom]);
  });
});
