/** §Leaving without losing work and admin DRAIN retire (since 1.1), driven through the pure core. */
import assert from "node:assert/strict";
import { adminOut, f, firstTask, Harness, onlyReply, PATH, tasksSent, toWorkers } from "./harness";

function taskHeaderOf(out: ReturnType<Harness["in"]>): { attempt: number } | undefined {
  for (const { msg } of toWorkers(out, "task")) if (msg.type === "task") return msg.header;
  return undefined;
}

describe("core: a leaving worker (DISCONNECT bye finish, FAIL returned)", () => {
  it("gets no new task, keeps running what it holds, and its answer is accepted", () => {
    const h = new Harness({ tries: 1 });
    h.ready("w1", { capacity: 2 });
    const first = firstTask(h.request("c1", "a", { id: "r1" }));
    const leave = h.worker("w1", { type: "disconnect", detail: { reason: "bye", finish: true } });
    assert.deepEqual(toWorkers(leave), [], "no DISCONNECT back: the connection stays");
    assert.deepEqual(tasksSent(h.request("c1", "b", { id: "r2" })), [], "a free slot, but leaving");
    const view = h.core.snapshot({}, h.now).workers[0];
    assert.equal(view?.state, "draining");
    assert.equal(view?.leaving, true);
    const reply = onlyReply(h.result("w1", first, "A"));
    assert.equal(reply.detail.status, "succeeded");
    assert.equal(h.counters().workers, 1, "registered until it says bye");
  });

  it("a give-back from a leaving worker counts no attempt: with -t 1 the task runs elsewhere as attempt 1", () => {
    const h = new Harness({ tries: 1 });
    h.ready("w1");
    const task = firstTask(h.request("c1", "a", { id: "r1" }));
    h.worker("w1", { type: "disconnect", detail: { reason: "bye", finish: true } });
    const back = h.worker("w1", { type: "fail", task: f(task), message: "worker leaving", retryable: true, returned: true });
    assert.deepEqual(replies(back), [], "the client is not answered: the task is queued again");
    assert.equal(h.counters().queued, 1);
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.failed, 0);
    const out = h.ready("w2");
    assert.deepEqual(tasksSent(out), [["w2", task]]);
    assert.equal(taskHeaderOf(out)?.attempt, 1);
    assert.equal(onlyReply(h.result("w2", task, "A")).detail.status, "succeeded");
  });

  it("without the leaving announcement, returned is a retryable FAIL: the attempt counts (-t 1 fails the task)", () => {
    const h = new Harness({ tries: 1 });
    h.ready("w1");
    const task = firstTask(h.request("c1", "a", { id: "r1" }));
    const reply = onlyReply(h.worker("w1", { type: "fail", task: f(task), message: "bounce", retryable: true, returned: true }));
    assert.equal(reply.detail.reason, "worker-failed");
  });

  it("a plain bye still loses the held attempt as worker lost (the 1.0 behaviour)", () => {
    const h = new Harness({ tries: 1 });
    h.ready("w1");
    h.request("c1", "a", { id: "r1" });
    const reply = onlyReply(h.worker("w1", { type: "disconnect", detail: { reason: "bye" } }));
    assert.equal(reply.detail.reason, "worker-lost");
  });
});

describe("core: admin DRAIN retire", () => {
  it("an idle worker is sent DISCONNECT draining at once and forgotten", () => {
    const h = new Harness();
    h.ready("w1");
    const out = h.admin("m1", { type: "drain", path: PATH, worker: "w1", retire: true });
    assert.deepEqual(adminOut(out).map(({ msg }) => msg.type), ["ack"]);
    const sent = toWorkers(out, "disconnect")[0]?.msg;
    assert.equal(sent?.type === "disconnect" ? sent.detail?.reason : undefined, "draining");
    assert.equal(h.counters().workers, 0);
  });

  it("a busy worker finishes its task first; Resume before that cancels the retirement", () => {
    const h = new Harness();
    h.ready("w1");
    const task = firstTask(h.request("c1", "a"));
    const out = h.admin("m1", { type: "drain", path: PATH, worker: "w1", retire: true });
    assert.deepEqual(toWorkers(out, "disconnect"), []);
    assert.equal(h.core.snapshot({}, h.now).workers[0]?.retiring, true);
    h.admin("m1", { type: "drain", path: PATH, worker: "w1", drain: false });
    assert.deepEqual(toWorkers(h.result("w1", task, "A"), "disconnect"), [], "resumed: it stays");
    const second = firstTask(h.request("c1", "b"));
    h.admin("m1", { type: "drain", path: PATH, worker: "w1", retire: true });
    const done = h.result("w1", second, "B");
    assert.equal(toWorkers(done, "disconnect").length, 1);
    assert.equal(h.counters().workers, 0);
    assert.equal(h.counters().succeeded, 2);
  });

  it("a legacy worker cannot be retired (bad-state)", () => {
    const h = new Harness();
    h.legacyReady("l1");
    const id = h.core.snapshot({}, h.now).workers[0]?.id ?? "";
    const [reply] = adminOut(h.admin("m1", { type: "drain", path: PATH, worker: id, retire: true }));
    assert.equal(reply?.msg.type === "error" ? reply.msg.code : undefined, "bad-state");
  });
});

function replies(out: ReturnType<Harness["in"]>): unknown[] {
  return out.filter((o) => o.kind === "to-client");
}

describe("core: a TASK that crosses the leaving announcement", () => {
  it("is given back (not counted) when the leaving worker's final bye arrives before its answer", () => {
    const h = new Harness({ tries: 1 });
    h.ready("w1");
    const task = firstTask(h.request("c1", "a", { id: "r1" }));
    // The worker announced leaving before it read that TASK, held nothing, and said bye at once.
    h.worker("w1", { type: "disconnect", detail: { reason: "bye", finish: true } });
    const bye = h.worker("w1", { type: "disconnect", detail: { reason: "bye" } });
    assert.deepEqual(replies(bye), [], "with -t 1, counting it would have failed the request as worker-lost");
    const out = h.ready("w2");
    assert.deepEqual(tasksSent(out), [["w2", task]]);
    assert.equal(taskHeaderOf(out)?.attempt, 1);
  });
});
