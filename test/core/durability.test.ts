/**
 * The recovery rules and idempotency keys (protocol/spec.md §Durability, §Idempotent requests), driven with the fake
 * clock. Journal records go through the real SQLite journal (a file in a temp directory) and come back as the next
 * core's `recover` input, as in `ztb broker --data`.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CoreConfig, JournalRecord, Output } from "../../broker/src/core/api";
import { SqliteJournal } from "../../broker/src/store/sqlite-journal";
import { Harness, PATH, adminOut, f, firstTask, onlyReply, replies, s, tasksSent } from "./harness";

/** A broker life: a core in durable mode whose records are committed to the journal in `dir` after every step. */
class Life {
  readonly h: Harness;
  readonly journal: SqliteJournal;
  private committed = 0;

  constructor(
    readonly dir: string,
    over: Partial<CoreConfig> = {},
    now?: number,
  ) {
    this.journal = SqliteJournal.open(dir, { fsync: "off" });
    this.h = new Harness({ bootNonce: this.journal.prefix, journal: { fsync: "off" }, ...over }, now);
    this.h.in({ kind: "recover", state: this.journal.read() });
    this.commit();
  }

  /** Commits the records the core emitted since the last call (what the shell does at the end of a turn). */
  commit(): void {
    const records: JournalRecord[] = [];
    for (const output of this.h.log.slice(this.committed)) if (output.kind === "journal") records.push(output.record);
    this.committed = this.h.log.length;
    this.journal.commit(records);
  }

  /** Runs `step`, commits its records, returns its outputs. */
  do(step: (h: Harness) => Output[]): Output[] {
    const out = step(this.h);
    this.commit();
    return out;
  }

  /** The process dies: nothing more is committed; the next life opens the same directory. */
  crash(): void {
    this.journal.close();
  }
}

describe("core: durability — recovery rules (real SQLite journal, fake clock)", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-core-durable-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a journal replayed into a fresh core gives the same tasks, ids, order, attempts, history and counters", () => {
    const one = new Life(dir, { tries: 3 });
    one.do((h) => h.ready("w1"));
    one.do((h) => h.request("c1", "a", { id: "1" }));
    one.do((h) => h.request("c1", "b", { id: "2" }));
    one.do((h) => h.request("c2", "c", { id: "3" }));
    const first = `${one.journal.prefix}-1`;
    one.do((h) => h.result("w1", first, "A"));
    one.do((h) => h.advance(5));
    const before = one.h.core.snapshot({}, one.h.now);
    one.crash();

    const two = new Life(dir, { tries: 3 }, one.h.now + 1000);
    const after = two.h.core.snapshot({}, two.h.now);
    // b was running on w1 when the broker died: queued again, its attempt counted; c still queued behind it.
    assert.deepEqual(
      after.tasks.items.map((t) => [t.id, t.state, t.attempt]),
      [[first, "succeeded", 1], [`${one.journal.prefix}-2`, "queued", 1], [`${one.journal.prefix}-3`, "queued", 0]],
    );
    assert.equal(before.counters.requests, after.counters.requests);
    assert.equal(after.counters.succeeded, 1);
    assert.equal(after.counters.queued, 2);
    assert.equal(after.counters.running, 0);
    assert.equal(after.counters.retried, before.counters.retried + 1, "the interrupted attempt counts as a re-queue");
    assert.equal(after.broker.durable, true);
    // New ids continue after the journal's highest.
    two.do((h) => h.request("c3", "d"));
    assert.equal(two.h.core.inspect(`${one.journal.prefix}-4`)?.task.state, "queued");
  });

  it("a task that crashes the broker on every attempt is still bounded by -t, and its client gets worker-lost", () => {
    let now = 1_000_000;
    let task = "";
    for (let life = 1; life <= 3; life++) {
      const l = new Life(dir, { tries: 3 }, now);
      if (life === 1) l.do((h) => h.request("client", "poison", { id: "p" }));
      const sent = l.do((h) => h.ready("w1"));
      task = firstTask(sent);
      const header = tasksSent(sent);
      assert.equal(header.length, 1);
      now = l.h.now + 100;
      l.crash(); // the worker ran it, and the broker died with it
    }
    const last = new Life(dir, { tries: 3 }, now);
    const view = last.h.core.inspect(task)?.task;
    assert.equal(view?.state, "failed");
    assert.equal(view?.reason, "worker-lost");
    assert.equal(view?.attempt, 3);
    // The client's reply waits for it to reconnect (its routing id), then goes out once.
    assert.equal(replies(last.h.log).length, 0);
    const r = onlyReply(last.do((h) => h.in({ kind: "client", peer: "client", msg: { type: "peer-hello" } })));
    assert.equal(r.detail.status, "failed");
    assert.equal(r.detail.reason, "worker-lost");
    assert.equal(r.detail.id, "p");
    assert.match(r.detail.message ?? "", /attempt 3 of 3/);
  });

  it("delivers a recovered task's reply to its client once it reconnects, on its own routing path", () => {
    const one = new Life(dir);
    one.do((h) => h.plain("req-client", "q"));
    one.crash();
    const two = new Life(dir, {}, one.h.now + 500);
    two.do((h) => h.ready("w1"));
    const task = `${two.journal.prefix}-1`;
    assert.deepEqual(replies(two.do((h) => h.result("w1", task, "A"))), [], "parked: the client has not reconnected");
    const out = two.do((h) => h.in({ kind: "client", peer: "req-client", msg: { type: "peer-hello" } }));
    const [r] = replies(out);
    assert.ok(r !== undefined && r.msg.type === "plain-reply");
    assert.equal(r.peer, "req-client");
    assert.deepEqual(r.msg.payload.map(s), ["A"]);
    assert.deepEqual(r.msg.path.map((frame) => frame.length), PATH.map((frame) => frame.length), "the delimiter-only path of a REQ peer");
  });

  it("never gives a recovered reply to a client whose routing id libzmq made up (a new peer may get the same id)", () => {
    // libzmq's own routing ids start with a zero octet and may repeat in the next broker process (seen with the
    // zeromq.js build): only ids a client chose (ZMQ_ROUTING_ID, never starting with zero) name the same client.
    const made = "\u0000\u0080\u0000\u0041\u00a7";
    const one = new Life(dir);
    one.do((h) => h.ready("w1", { capacity: 3 }));
    one.do((h) => h.request(made, "secret of the first client", { id: "x1" }));
    one.do((h) => h.request("chosen", "mine", { id: "c1" }));
    const [first, second] = tasksSent(one.h.log);
    assert.ok(first && second);
    one.do((h) => h.result("w1", first[1], "SECRET"));
    one.do((h) => h.request(made, "pending of the first client", { id: "x2" }));
    one.crash();
    const two = new Life(dir, {}, one.h.now + 50);
    two.do((h) => h.ready("w2", { capacity: 3 }));
    for (const [, task] of tasksSent(two.h.log)) two.do((h) => h.result("w2", task, "LATER"));
    const newcomer = two.do((h) => h.in({ kind: "client", peer: made, msg: { type: "peer-hello" } }));
    assert.deepEqual(replies(newcomer), [], "nothing for a peer that merely has the same made-up id");
    const back = replies(two.do((h) => h.in({ kind: "client", peer: "chosen", msg: { type: "peer-hello" } })));
    assert.deepEqual(back.map((r) => r.peer), ["chosen"], "a client that chose its id gets its reply");
  });

  it("accepts a late RESULT for a task that was running at the crash, from a worker not registered since (first answer wins)", () => {
    const one = new Life(dir);
    one.do((h) => h.ready("old"));
    one.do((h) => h.request("c", "q", { id: "x" }));
    const task = `${one.journal.prefix}-1`;
    one.crash();
    const two = new Life(dir, {}, one.h.now + 100);
    two.do((h) => h.in({ kind: "client", peer: "c", msg: { type: "peer-hello" } }));
    const out = two.do((h) => h.result("old", task, "late but first"));
    const r = onlyReply(out);
    assert.equal(r.detail.status, "succeeded");
    assert.deepEqual(r.payload.map(s), ["late but first"]);
    assert.ok(out.some((o) => o.kind === "to-worker" && o.peer === "old" && o.msg.type === "disconnect"), "still told to register");
    // A second answer is late.
    two.do((h) => h.ready("w2"));
    assert.deepEqual(replies(two.do((h) => h.result("w2", task, "second"))), []);
  });

  it("keeps a keyed result across a restart: a resend with the key is answered from it, duplicate, without a new task", () => {
    const one = new Life(dir, { keepResults: 60_000 });
    one.do((h) => h.ready("w1"));
    one.do((h) => h.request("c1", "invoice 7", { id: "a", key: "order-7" }));
    one.do((h) => h.result("w1", `${one.journal.prefix}-1`, "pdf"));
    one.crash();
    const two = new Life(dir, { keepResults: 60_000 }, one.h.now + 30_000);
    const r = onlyReply(two.do((h) => h.request("c9", "invoice 7", { id: "b", key: "order-7" })));
    assert.equal(r.detail.duplicate, true);
    assert.equal(r.detail.id, "b");
    assert.equal(r.detail.task, `${one.journal.prefix}-1`);
    assert.deepEqual(r.payload.map(s), ["pdf"]);
    assert.equal(two.h.counters().requests, 1);
    assert.equal(two.h.counters().deduplicated, 1);
    // After keepResults the key names nothing: the same key makes a new task.
    two.do((h) => h.advance(30_001));
    two.do((h) => h.request("c9", "invoice 7", { id: "c", key: "order-7" }));
    assert.equal(two.h.counters().requests, 2);
  });

  it("attaches a resend to the live task with the same key and service; both get the one reply; other services are apart", () => {
    const l = new Life(dir);
    l.do((h) => h.request("c1", "job", { id: "1", key: "k", service: "s" }));
    l.do((h) => h.request("c2", "job", { id: "2", key: "k", service: "s" }));
    l.do((h) => h.request("c3", "job", { id: "3", key: "k", service: "other" }));
    assert.equal(l.h.counters().requests, 2);
    l.crash();
    // The attachment is journaled too.
    const two = new Life(dir, {}, l.h.now + 10);
    two.do((h) => h.ready("w1", { services: ["s"] }));
    for (const peer of ["c1", "c2"]) two.do((h) => h.in({ kind: "client", peer, msg: { type: "peer-hello" } }));
    const out = two.do((h) => h.result("w1", `${two.journal.prefix}-1`, "done"));
    const rs = replies(out);
    assert.deepEqual(rs.map((r) => r.peer), ["c1", "c2"]);
    assert.deepEqual(rs.map((r) => (r.msg.type === "reply" ? r.msg.detail.id : "")), ["1", "2"]);
    assert.deepEqual(rs.map((r) => (r.msg.type === "reply" ? r.msg.detail.duplicate : "")), [undefined, true], "the attached request is the duplicate");
  });

  it("keeps failed tasks apart from the succeeded history, deletes them one by one or in bulk, and forgets them in the journal", () => {
    const one = new Life(dir, { tries: 1, history: 2, keepFailed: 10 });
    one.do((h) => h.ready("w1", { capacity: 10 }));
    for (let i = 0; i < 3; i++) one.do((h) => h.request("c", `bad ${i}`, { service: i === 2 ? "other" : "default" }));
    one.do((h) => h.ready("w2", { services: ["other"] }));
    for (const task of tasksSent(one.h.log)) one.do((h) => h.fail(task[0], task[1], false));
    for (let i = 0; i < 5; i++) {
      one.do((h) => h.request("c", `ok ${i}`));
      const sent = tasksSent(one.h.log).at(-1);
      assert.ok(sent);
      one.do((h) => h.result(sent[0], sent[1], "fine"));
    }
    const counts = (life: Life): [number, number] => {
      const snap = life.h.core.snapshot({}, life.h.now);
      return [snap.tasks.items.filter((t) => t.state === "failed").length, snap.tasks.items.filter((t) => t.state === "succeeded").length];
    };
    assert.deepEqual(counts(one), [3, 2], "five successes do not push out the failures");
    const busy = adminOut(one.do((h) => h.admin("m", { type: "delete", path: PATH, target: { task: "nope" } })));
    assert.equal(busy[0]?.msg.type, "error");
    const single = adminOut(one.do((h) => h.admin("m", { type: "delete", path: PATH, target: { task: `${one.journal.prefix}-1` } })));
    assert.deepEqual(single[0]?.msg.type === "ack" ? single[0].msg.body : undefined, { deleted: 1 });
    const bulk = adminOut(one.do((h) => h.admin("m", { type: "delete", path: PATH, target: { state: "failed", service: "default" } })));
    assert.deepEqual(bulk[0]?.msg.type === "ack" ? bulk[0].msg.body : undefined, { deleted: 1 });
    one.crash();
    const two = new Life(dir, { tries: 1, history: 2, keepFailed: 10 }, one.h.now + 1);
    assert.deepEqual(counts(two), [1, 2], "deletions and evictions reached the journal");
    const rows = two.journal.read().tasks;
    assert.equal(rows.length, 3);
  });

  it("sends the replies of tasks that finished just before the crash again, marked resent, to enveloped clients only", () => {
    const one = new Life(dir);
    one.do((h) => h.ready("w1", { capacity: 3 }));
    one.do((h) => h.request("env", "a", { id: "e1" }));
    one.do((h) => h.plain("plain", "b"));
    const [first, second] = tasksSent(one.h.log);
    assert.ok(first && second);
    one.do((h) => h.result("w1", first[1], "A"));
    one.do((h) => h.result("w1", second[1], "B"));
    one.do((h) => h.advance(20_000));
    one.do((h) => h.request("env", "c", { id: "e2" }));
    const third = tasksSent(one.h.log).at(-1);
    assert.ok(third);
    one.do((h) => h.result("w1", third[1], "C"));
    one.crash();
    const two = new Life(dir, {}, one.h.now + 50);
    assert.deepEqual(replies(two.h.log), [], "nothing before the client reconnects");
    const outPlain = two.do((h) => h.in({ kind: "client", peer: "plain", msg: { type: "peer-hello" } }));
    assert.deepEqual(replies(outPlain), [], "a plain reply is never sent twice");
    const r = onlyReply(two.do((h) => h.in({ kind: "client", peer: "env", msg: { type: "peer-hello" } })));
    // Only the task that finished within the window before the crash: e1 finished 20 s earlier.
    assert.equal(r.detail.id, "e2");
    assert.equal(r.detail.resent, true);
    assert.deepEqual(r.payload.map(s), ["C"]);
    assert.equal(two.h.counters().replies, one.h.counters().replies, "a copy is not another reply");
  });

  it("a graceful stop of a durable broker fails nothing: queued and running tasks wait in the journal for the next start", () => {
    const one = new Life(dir, { tries: 3 });
    one.do((h) => h.ready("w1"));
    one.do((h) => h.request("c1", "running", { id: "a" }));
    one.do((h) => h.request("c2", "queued", { id: "b" }));
    const out = one.do((h) => h.in({ kind: "shutdown", grace: 100 }));
    assert.deepEqual(replies(out), [], "no failed/shutdown reply in durable mode");
    const refused = onlyReply(one.do((h) => h.request("c3", "late")));
    assert.equal(refused.detail.reason, "shutdown", "new requests are still refused");
    const stopped = one.do((h) => h.advance(100));
    assert.ok(stopped.some((o) => o.kind === "stopped"));
    assert.deepEqual(replies(stopped), []);
    one.crash();
    const two = new Life(dir, { tries: 3 }, one.h.now + 1000);
    const views = two.h.core.snapshot({}, two.h.now).tasks.items;
    assert.deepEqual(views.map((t) => [t.state, t.attempt]), [["queued", 1], ["queued", 0]]);
  });

  it("refuses to DELETE a live task", () => {
    const l = new Life(dir);
    l.do((h) => h.request("c", "q"));
    const out = adminOut(l.do((h) => h.admin("m", { type: "delete", path: PATH, target: { task: `${l.journal.prefix}-1` } })));
    assert.ok(out[0]?.msg.type === "error" && out[0].msg.code === "bad-state");
    l.crash();
  });

  it("emits no journal records without --data", () => {
    const h = new Harness();
    h.ready("w1");
    h.request("c", "q", { key: "k" });
    h.result("w1", "boot-1", "A");
    assert.equal(h.log.filter((o) => o.kind === "journal").length, 0);
    assert.equal(h.core.snapshot({}, h.now).broker.durable, false);
    // Keys work in memory too.
    assert.equal(onlyReply(h.request("c2", "q", { key: "k" })).detail.duplicate, true);
    assert.equal(f("x").length, 1);
  });
});

describe("core: bounds that hold whatever clients invent (rule 9, log rate limits)", () => {
  it("queues at most --max-queue tasks in total for services no worker serves", () => {
    const h = new Harness({ maxQueue: 3 });
    for (let i = 0; i < 3; i++) assert.deepEqual(replies(h.request("c", "q", { service: `invented-${i}` })), []);
    const r = onlyReply(h.request("c", "q", { service: "invented-3" }));
    assert.equal(r.detail.reason, "queue-full");
    assert.match(r.detail.message ?? "", /no worker serves "invented-3"/);
    // A served service is not held back by the invented ones; once served, a service's tasks stop counting.
    h.ready("w1", { services: ["real"] });
    assert.deepEqual(replies(h.request("c", "q", { service: "real" })), []);
    h.ready("w2", { services: ["invented-0"] });
    h.result("w2", firstTask(h.log.slice(-3)), "ok");
    assert.deepEqual(replies(h.request("c", "q", { service: "invented-9" })).length, 0, "room again for one unserved task");
    assert.equal(onlyReply(h.request("c", "q", { service: "invented-10" })).detail.reason, "queue-full");
  });

  it("logs task failures at most once a second, saying how many it left out", () => {
    const h = new Harness({ tries: 1 });
    h.ready("w1", { capacity: 100 });
    for (let i = 0; i < 50; i++) h.request("c", `q${i}`);
    for (const [peer, task] of tasksSent(h.log)) h.fail(peer, task, false);
    const lines = () => h.log.filter((o) => o.kind === "log" && o.event === "task-failed");
    assert.equal(lines().length, 1);
    h.advance(1000);
    h.request("c", "late one");
    const [peer, task] = tasksSent(h.log).at(-1) ?? ["", ""];
    h.fail(peer, task, false);
    const last = lines().at(-1);
    assert.equal(lines().length, 2);
    assert.ok(last?.kind === "log" && last.fields.suppressed === 49);
    assert.equal(h.counters().failed, 51);
  });
});
