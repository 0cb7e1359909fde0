import assert from "node:assert/strict";
import { Harness, PATH, f, onlyReply, replies, s, tasksSent } from "./harness";

describe("core: client replies — plain and enveloped", () => {
  it("replies to a plain request with the worker's frames exactly", () => {
    const h = new Harness();
    h.ready("w1");
    h.plain("c1", "q");
    const [r] = replies(h.worker("w1", { type: "result", task: f("boot-1"), payload: [f("a"), f("b")] }));
    assert.ok(r !== undefined && r.msg.type === "plain-reply");
    assert.deepEqual(r.msg.payload.map(s), ["a", "b"]);
    assert.equal(r.msg.path, PATH);
  });

  it("replies to a failed plain request with one empty frame", () => {
    const h = new Harness({ tries: 1 });
    h.ready("w1");
    h.plain("c1", "q");
    const [r] = replies(h.fail("w1", "boot-1", true));
    assert.ok(r !== undefined && r.msg.type === "plain-reply");
    assert.deepEqual(r.msg.payload.map((x) => x.length), [0]);
  });

  it("replies to an enveloped request with the detail and echoes the correlation id", () => {
    const h = new Harness();
    h.ready("w1", { name: "gpu-1" });
    h.request("c1", "q", { id: "req-7" });
    h.advance(25);
    const r = onlyReply(h.result("w1", "boot-1", "A"));
    assert.deepEqual(r.detail, { status: "succeeded", id: "req-7", task: "boot-1", attempts: 1, worker: "gpu-1", elapsed: 25 });
  });

  it("clamps the requested timeout to the broker's -T", () => {
    const h = new Harness({ timeout: 100 });
    h.ready("w1");
    h.request("c1", "q", { timeout: 5000, attempts: 1 });
    assert.equal(onlyReply(h.advance(100)).detail.reason, "timeout");
  });
});

describe("core: queue-full", () => {
  it("refuses a request when the service already has --max-queue tasks waiting", () => {
    const h = new Harness({ maxQueue: 2 });
    h.request("c1", "a");
    h.request("c1", "b");
    const r = onlyReply(h.request("c1", "c", { id: "x" }));
    assert.deepEqual([r.detail.status, r.detail.reason, r.detail.attempts, r.detail.id], ["failed", "queue-full", 0, "x"]);
    assert.equal(h.counters().rejected, 1);
  });

  it("counts waiting tasks only, not running ones", () => {
    const h = new Harness({ maxQueue: 1 });
    h.ready("w1");
    h.request("c1", "a");
    h.request("c1", "b");
    assert.equal(onlyReply(h.request("c1", "c")).detail.reason, "queue-full");
  });
});

describe("core: unknown-service", () => {
  it("refuses other services only when the broker has a service list", () => {
    const h = new Harness({ services: ["ocr"] });
    assert.equal(onlyReply(h.request("c1", "a", { service: "render" })).detail.reason, "unknown-service");
    assert.deepEqual(replies(h.request("c1", "a", { service: "ocr" })), []);
    const open = new Harness();
    assert.deepEqual(replies(open.request("c1", "a", { service: "anything" })), []);
  });
});

describe("core: client CANCEL by correlation id", () => {
  it("cancels the client's own queued request", () => {
    const h = new Harness();
    h.request("c1", "a", { id: "k" });
    const r = onlyReply(h.in({ kind: "client", peer: "c1", msg: { type: "cancel", path: PATH, id: "k" } }));
    assert.deepEqual([r.detail.reason, r.detail.id], ["cancelled", "k"]);
    assert.deepEqual(tasksSent(h.ready("w1")), []);
  });

  it("cancels a running request and sends CANCEL{cancelled} to its worker", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "a", { id: "k" });
    const out = h.in({ kind: "client", peer: "c1", msg: { type: "cancel", path: PATH, id: "k" } });
    assert.equal(onlyReply(out).detail.reason, "cancelled");
    assert.ok(out.some((o) => o.kind === "to-worker" && o.msg.type === "cancel" && o.msg.reason === "cancelled"));
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.held, 0);
  });

  it("does not let one client cancel another client's request with the same id", () => {
    const h = new Harness();
    h.request("c1", "a", { id: "k" });
    assert.deepEqual(replies(h.in({ kind: "client", peer: "c2", msg: { type: "cancel", path: PATH, id: "k" } })), []);
    assert.equal(h.counters().queued, 1);
  });
});

describe("core: malformed client requests", () => {
  it("answers a malformed enveloped request with REPLY failed/malformed and the codec code", () => {
    const h = new Harness();
    const out = h.in({ kind: "malformed", endpoint: "clients", peer: "c1", code: "ZTB_ERR_BAD_JSON", detail: "bad", replyPath: PATH, enveloped: true });
    const r = onlyReply(out);
    assert.deepEqual([r.detail.status, r.detail.reason, r.detail.error], ["failed", "malformed", "ZTB_ERR_BAD_JSON"]);
    assert.equal(h.counters().malformed.client, 1);
  });

  it("only counts a client message that cannot be addressed", () => {
    const h = new Harness();
    assert.deepEqual(replies(h.in({ kind: "malformed", endpoint: "clients", peer: "c1", code: "ZTB_ERR_DELIMITER", detail: "" })), []);
    assert.equal(h.counters().malformed.client, 1);
  });
});

describe("core: rule 7 — every accepted request gets exactly one reply", () => {
  it("replies once whatever happens after the first reply", () => {
    const h = new Harness({ timeout: 100 });
    h.ready("w1");
    h.ready("w2");
    h.request("c1", "a", { id: "k" });
    h.advance(100);
    h.result("w1", "boot-1", "A");
    h.result("w2", "boot-1", "B");
    h.in({ kind: "client", peer: "c1", msg: { type: "cancel", path: PATH, id: "k" } });
    h.in({ kind: "shutdown", grace: 0 });
    assert.equal(replies(h.log).length, 1);
  });
});
