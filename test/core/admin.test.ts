import assert from "node:assert/strict";
import type { AdminReply } from "../../broker/src/protocol/messages";
import { Harness, PATH, adminOut, onlyReply, replies, tasksSent } from "./harness";

function only(out: ReturnType<Harness["in"]>): AdminReply {
  const list = adminOut(out);
  assert.equal(list.length, 1, JSON.stringify(list.map((x) => x.msg.type)));
  return (list[0] as { msg: AdminReply }).msg;
}

describe("core: admin SNAPSHOT — paging, filtering, bounds", () => {
  it("pages the task list and reports the total", () => {
    const h = new Harness();
    for (let i = 0; i < 7; i++) h.request("c1", `p${i}`);
    const reply = only(h.admin("m1", { type: "snapshot", path: PATH, query: { tasks: { offset: 2, limit: 3 } } }));
    assert.ok(reply.type === "snapshot");
    assert.equal(reply.snapshot.tasks.total, 7);
    assert.deepEqual(reply.snapshot.tasks.items.map((t) => t.id), ["boot-3", "boot-4", "boot-5"]);
    assert.equal(reply.snapshot.broker.state, "running");
  });

  it("filters by state and caps the page at 500", () => {
    const h = new Harness();
    h.ready("w1");
    for (let i = 0; i < 600; i++) h.request("c1", `p${i}`);
    const snap = h.core.snapshot({ tasks: { state: "queued", limit: 10_000 } }, h.now);
    assert.equal(snap.tasks.total, 599);
    assert.equal(snap.tasks.items.length, 500);
    assert.equal(h.core.snapshot({ tasks: { state: "running" } }, h.now).tasks.items[0]?.worker, "w1");
  });

  it("keeps only --history finished tasks", () => {
    const h = new Harness({ history: 2 });
    h.ready("w1");
    for (let i = 1; i <= 4; i++) {
      h.request("c1", `p${i}`);
      h.result("w1", `boot-${i}`, "ok");
    }
    const snap = h.core.snapshot({}, h.now);
    assert.deepEqual(snap.tasks.items.map((t) => t.id), ["boot-3", "boot-4"]);
    assert.equal(snap.counters.succeeded, 4);
  });
});

describe("core: admin SUBSCRIBE — coalesced EVENTs, seq, lease", () => {
  it("acks with the current seq and sends at most one EVENT per 100 ms with the changes", () => {
    const h = new Harness();
    const ack = only(h.admin("m1", { type: "subscribe", path: PATH, lease: 5000 }));
    assert.deepEqual(ack.type === "ack" && ack.body, { seq: 0 });
    const first = only(h.request("c1", "a"));
    assert.ok(first.type === "event");
    assert.equal(first.event.seq, 1);
    assert.deepEqual(first.event.tasks.map((t) => [t.id, t.state]), [["boot-1", "queued"]]);
    assert.deepEqual(adminOut(h.request("c1", "b")), []);
    h.advance(50);
    assert.deepEqual(adminOut(h.ready("w1")), []);
    const second = only(h.advance(50));
    assert.ok(second.type === "event");
    assert.equal(second.event.seq, 2);
    assert.deepEqual(second.event.tasks.map((t) => [t.id, t.state]), [["boot-2", "queued"], ["boot-1", "running"]]);
    assert.deepEqual(second.event.workers.map((w) => w.id), ["w1"]);
  });

  it("stops sending EVENTs when the lease expires, and a renewal keeps it alive", () => {
    const h = new Harness();
    h.admin("m1", { type: "subscribe", path: PATH, lease: 1000 });
    h.advance(900);
    h.admin("m1", { type: "subscribe", path: PATH, lease: 1000 });
    h.advance(900);
    assert.equal(adminOut(h.request("c1", "a")).length, 1);
    h.advance(1100);
    assert.deepEqual(adminOut(h.request("c1", "b")), []);
  });

  it("sends the same EVENT to every monitor with a live lease, and forgets a monitor whose peer is gone", () => {
    const h = new Harness();
    h.admin("m1", { type: "subscribe", path: PATH });
    h.admin("m2", { type: "subscribe", path: PATH });
    const both = adminOut(h.request("c1", "a"));
    assert.deepEqual(both.map((x) => x.peer), ["m1", "m2"]);
    assert.deepEqual(both.map((x) => x.msg.type === "event" && x.msg.event.seq), [1, 1]);
    h.admin("m1", { type: "peer-gone" });
    h.advance(100);
    const one = adminOut(h.request("c1", "b"));
    assert.deepEqual(one.map((x) => [x.peer, x.msg.type === "event" && x.msg.event.seq]), [["m2", 2]]);
  });

  it("lists tasks pushed out of the history under removed", () => {
    const h = new Harness({ history: 1 });
    h.ready("w1");
    h.admin("m1", { type: "subscribe", path: PATH });
    h.request("c1", "a");
    h.result("w1", "boot-1", "A");
    h.request("c1", "b");
    h.result("w1", "boot-2", "B");
    const ev = adminOut(h.advance(100)).at(-1)?.msg;
    assert.ok(ev !== undefined && ev.type === "event");
    assert.deepEqual(ev.event.removed.tasks, ["boot-1"]);
  });
});

describe("core: admin INSPECT", () => {
  it("returns the request and reply frames", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "hello");
    h.result("w1", "boot-1", "world");
    const reply = only(h.admin("m1", { type: "inspect", path: PATH, task: "boot-1" }));
    assert.ok(reply.type === "task");
    assert.deepEqual(reply.inspection.request, [{ text: "hello" }]);
    assert.deepEqual(reply.inspection.reply, [{ text: "world" }]);
    assert.equal(reply.inspection.truncated, undefined);
  });

  it("cuts frames at 64 KiB in total", () => {
    const h = new Harness();
    h.in({ kind: "client", peer: "c1", msg: { type: "request", path: PATH, options: {}, payload: [new Uint8Array(40_000), new Uint8Array(40_000)] } });
    const found = h.core.inspect("boot-1");
    assert.equal(found?.truncated, true);
  });

  it("answers ERROR unknown-task for an unknown id", () => {
    const h = new Harness();
    const reply = only(h.admin("m1", { type: "inspect", path: PATH, task: "nope" }));
    assert.deepEqual(reply.type === "error" && reply.code, "unknown-task");
  });
});

describe("core: admin CANCEL", () => {
  it("cancels a running task: the client gets failed/cancelled, the worker CANCEL{cancelled}", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "a");
    const out = h.admin("m1", { type: "cancel", path: PATH, task: "boot-1" });
    assert.equal(onlyReply(out).detail.reason, "cancelled");
    assert.ok(out.some((o) => o.kind === "to-worker" && o.msg.type === "cancel" && o.msg.reason === "cancelled"));
    assert.deepEqual(only(out).type, "ack");
  });

  it("refuses finished tasks with bad-state", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c1", "a");
    h.result("w1", "boot-1", "A");
    const reply = only(h.admin("m1", { type: "cancel", path: PATH, task: "boot-1" }));
    assert.deepEqual(reply.type === "error" && reply.code, "bad-state");
  });
});

describe("core: admin RETRY", () => {
  it("enqueues a new admin task with the same payload and sends no client reply", () => {
    const h = new Harness({ tries: 1 });
    h.ready("w1");
    h.request("c1", "a", { service: "default" });
    h.fail("w1", "boot-1", false);
    const out = h.admin("m1", { type: "retry", path: PATH, task: "boot-1" });
    assert.deepEqual(only(out).type === "ack" && (only(out) as { body: unknown }).body, { task: "boot-2" });
    assert.deepEqual(tasksSent(out), [["w1", "boot-2"]]);
    assert.deepEqual(replies(h.result("w1", "boot-2", "fixed")), []);
    const t = h.core.inspect("boot-2");
    assert.deepEqual([t?.task.origin, t?.task.state, t?.reply], ["admin", "succeeded", [{ text: "fixed" }]]);
  });

  it("refuses tasks that are not failed or cancelled", () => {
    const h = new Harness();
    h.request("c1", "a");
    const reply = only(h.admin("m1", { type: "retry", path: PATH, task: "boot-1" }));
    assert.deepEqual(reply.type === "error" && reply.code, "bad-state");
  });
});

describe("core: admin DRAIN", () => {
  it("answers ERROR unknown-worker for an unknown worker", () => {
    const h = new Harness();
    const reply = only(h.admin("m1", { type: "drain", path: PATH, worker: "w9" }));
    assert.deepEqual(reply.type === "error" && reply.code, "unknown-worker");
  });
});
