/** §JSON members: a worker reads a CANCEL or DISCONNECT with a reason it does not know (or unreadable JSON) safely. */
import assert from "node:assert/strict";
import { decodeToWorker, ProtocolError, salvageToWorker } from "../../broker/src/codec";

const frames = (...parts: string[]): Uint8Array[] => parts.map((part) => Buffer.from(part, "latin1"));

describe("codec: forward-compatible reading of broker messages (salvageToWorker)", () => {
  it("a CANCEL with an unknown reason is refused by the strict decoder and read as cancelled for its task", () => {
    const cancel = frames("", "ZTBW01", "CANCEL", "k3f9q2-1a", '{"reason":"preempted"}');
    assert.throws(() => decodeToWorker(cancel), (error: unknown) => error instanceof ProtocolError && error.code === "ZTB_ERR_SCHEMA");
    const read = salvageToWorker(cancel);
    assert.equal(read?.type, "cancel");
    assert.ok(read?.type === "cancel");
    assert.equal(Buffer.from(read.task).toString(), "k3f9q2-1a");
    assert.equal(read.reason, "cancelled");
  });

  it("a CANCEL with unparseable JSON still names its task", () => {
    const read = salvageToWorker(frames("", "ZTBW01", "CANCEL", "t-1", "{reason"));
    assert.ok(read?.type === "cancel" && Buffer.from(read.task).toString() === "t-1");
  });

  it("a DISCONNECT with an unknown reason or bad JSON reads as a DISCONNECT without JSON", () => {
    assert.deepEqual(salvageToWorker(frames("", "ZTBW01", "DISCONNECT", '{"reason":"relocate"}')), { type: "disconnect" });
    assert.deepEqual(salvageToWorker(frames("", "ZTBW01", "DISCONNECT", "\xff")), { type: "disconnect" });
  });

  it("anything else stays malformed: wrong frame counts, an empty task id, other commands, other signatures", () => {
    for (const bad of [
      frames("", "ZTBW01", "CANCEL", "t-1"),
      frames("", "ZTBW01", "CANCEL", "t-1", "{}", "extra"),
      frames("", "ZTBW01", "CANCEL", "", "{}"),
      frames("", "ZTBW01", "DISCONNECT", "{}", "extra"),
      frames("", "ZTBW01", "TASK", "t-1", "{bad"),
      frames("", "ZTBW02", "CANCEL", "t-1", "{}"),
      frames("x", "", "ZTBW01", "CANCEL", "t-1", "{}"),
    ]) {
      assert.equal(salvageToWorker(bad), undefined, bad.map((f) => Buffer.from(f).toString()).join("|"));
    }
  });
});
