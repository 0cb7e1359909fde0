/**
 * Random interleavings of clients, modern and legacy workers, monitors, time and shutdown against BrokerCore,
 * checking the invariants of protocol/spec.md §Scheduling rules after every step.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Output } from "../../broker/src/core/api";
import { BrokerCore } from "../../broker/src/core/broker-core";
import type { TaskState } from "../../broker/src/protocol/messages";
import { PATH, config, f, s } from "./harness";

type Cmd =
  | { c: "ready"; w: number; capacity: number }
  | { c: "legacy"; w: number }
  | { c: "request"; enveloped: boolean; service: number; attempts: number }
  | { c: "result"; w: number; pick: number }
  | { c: "fail"; w: number; pick: number; retryable: boolean }
  | { c: "extend"; w: number; pick: number }
  | { c: "answer"; pick: number }
  | { c: "gone"; w: number }
  | { c: "heartbeat"; w: number }
  | { c: "advance"; ms: number }
  | { c: "cancel"; pick: number }
  | { c: "admin"; op: "cancel" | "retry" | "drain"; pick: number }
  | { c: "shutdown"; grace: number };

const W = 4; // worker peers m0..m3 (modern) and l0..l3 (legacy)
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ c: fc.constant("ready" as const), w: fc.nat(W - 1), capacity: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ c: fc.constant("legacy" as const), w: fc.nat(W - 1) }),
  fc.record({ c: fc.constant("request" as const), enveloped: fc.boolean(), service: fc.nat(1), attempts: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ c: fc.constant("request" as const), enveloped: fc.boolean(), service: fc.constant(0), attempts: fc.constant(0) }),
  fc.record({ c: fc.constant("result" as const), w: fc.nat(W - 1), pick: fc.nat(20) }),
  fc.record({ c: fc.constant("result" as const), w: fc.nat(W - 1), pick: fc.nat(20) }),
  fc.record({ c: fc.constant("fail" as const), w: fc.nat(W - 1), pick: fc.nat(20), retryable: fc.boolean() }),
  fc.record({ c: fc.constant("extend" as const), w: fc.nat(W - 1), pick: fc.nat(20) }),
  fc.record({ c: fc.constant("answer" as const), pick: fc.nat(40) }),
  fc.record({ c: fc.constant("gone" as const), w: fc.nat(2 * W - 1) }),
  fc.record({ c: fc.constant("heartbeat" as const), w: fc.nat(W - 1) }),
  fc.record({ c: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 1500 }) }),
  fc.record({ c: fc.constant("cancel" as const), pick: fc.nat(40) }),
  fc.record({ c: fc.constant("admin" as const), op: fc.constantFrom("cancel" as const, "retry" as const, "drain" as const), pick: fc.nat(40) }),
  fc.record({ c: fc.constant("shutdown" as const), grace: fc.integer({ min: 0, max: 2000 }) }),
);

const settings = fc.record({
  tries: fc.constantFrom(null, 1, 3),
  timeout: fc.constantFrom(null, 300, 1000),
  maxQueue: fc.constantFrom(null, 3),
});

class Model {
  readonly core: BrokerCore;
  now = 0;
  /** Replies seen per client peer (one peer per request, so a peer stands for its request). */
  readonly replies = new Map<string, number>();
  /** Task id -> client peer, for tasks created by client requests. */
  readonly taskClient = new Map<string, string>();
  readonly rejected = new Set<string>();
  readonly corr = new Map<string, string>(); // client peer -> correlation id
  readonly allTasks: string[] = [];
  /** What each modern worker peer holds according to the messages exchanged, and its capacity. */
  readonly modern = new Map<string, { capacity: number; held: Set<string> }>();
  /** Legacy peers with an outstanding request for work, and the tasks they were sent. */
  readonly legacyAsked = new Set<string>();
  readonly legacyTasks: string[] = [];
  replyCount = 0;
  clients = 0;

  constructor(tries: number | null, timeout: number | null, maxQueue: number | null) {
    this.core = new BrokerCore(config({ tries, timeout, maxQueue, heartbeat: 400, history: 100_000, bootNonce: "p" }), 0);
  }

  apply(out: Output[]): void {
    for (const o of out) {
      if (o.kind === "to-client") {
        this.replyCount++;
        this.replies.set(o.peer, (this.replies.get(o.peer) ?? 0) + 1);
        assert.ok((this.replies.get(o.peer) ?? 0) <= 1, `client ${o.peer} answered twice`);
      } else if (o.kind === "to-worker") {
        const msg = o.msg;
        if (msg.type === "task") {
          const w = this.modern.get(o.peer);
          assert.ok(w !== undefined, `TASK to ${o.peer}, which is not a ready modern worker`);
          assert.ok(w.held.size < w.capacity, `TASK to ${o.peer} beyond its capacity ${w.capacity}`);
          w.held.add(s(msg.task));
        } else if (msg.type === "legacy-task") {
          assert.ok(this.legacyAsked.delete(o.peer), `legacy task to ${o.peer}, which did not ask`);
          this.legacyTasks.push(s(msg.task));
        } else if (msg.type === "cancel") {
          const w = this.modern.get(o.peer);
          assert.ok(w?.held.delete(s(msg.task)), `CANCEL to ${o.peer} for a task it does not hold`);
        } else if (msg.type === "disconnect") {
          this.modern.delete(o.peer);
        }
      }
    }
  }

  handle(input: Parameters<BrokerCore["handle"]>[0]): void {
    this.apply(this.core.handle(input, this.now));
  }

  step(c: Cmd): void {
    switch (c.c) {
      case "ready": {
        const peer = `m${c.w}`;
        this.modern.set(peer, { capacity: c.capacity, held: new Set() });
        this.handle({ kind: "worker", peer, msg: { type: "ready", options: { name: peer, capacity: c.capacity, heartbeat: 1000 } } });
        return;
      }
      case "legacy": {
        const peer = `l${c.w}`;
        this.legacyAsked.add(peer);
        this.handle({ kind: "worker", peer, msg: { type: "legacy-ready", path: PATH, frame: f("requesting task") } });
        return;
      }
      case "request": {
        const peer = `c${++this.clients}`;
        const before = this.counters().requests;
        const options = { service: c.service === 0 ? "default" : "other", id: `id${this.clients % 3}`, ...(c.attempts > 0 ? { attempts: c.attempts } : {}) };
        if (c.enveloped) this.corr.set(peer, options.id);
        this.handle({
          kind: "client",
          peer,
          msg: c.enveloped ? { type: "request", path: PATH, options, payload: [f("x")] } : { type: "plain-request", path: PATH, payload: [f("x")] },
        });
        this.noteNewTasks(before, peer);
        return;
      }
      case "result":
      case "fail":
      case "extend": {
        const peer = `m${c.w}`;
        const held = [...(this.modern.get(peer)?.held ?? [])];
        // Mostly a task the worker holds; sometimes any task (late or foreign).
        const task = c.pick < held.length * 3 ? held[c.pick % Math.max(1, held.length)] : this.allTasks[c.pick % Math.max(1, this.allTasks.length)];
        if (task === undefined) return;
        if (c.c !== "extend") this.modern.get(peer)?.held.delete(task);
        const msg =
          c.c === "result"
            ? { type: "result" as const, task: f(task), payload: [f("r")] }
            : c.c === "fail"
              ? { type: "fail" as const, task: f(task), message: "m", retryable: c.retryable }
              : { type: "extend" as const, task: f(task), timeout: 200 };
        this.handle({ kind: "worker", peer, msg });
        return;
      }
      case "answer": {
        const task = this.legacyTasks[c.pick % Math.max(1, this.legacyTasks.length)];
        if (task !== undefined) this.handle({ kind: "answer", msg: { type: "legacy-answer", task: f(task), payload: [f("a")] } });
        return;
      }
      case "gone": {
        const peer = c.w < W ? `m${c.w}` : `l${c.w - W}`;
        this.modern.delete(peer);
        this.legacyAsked.delete(peer);
        this.handle({ kind: "worker", peer, msg: { type: "peer-gone" } });
        return;
      }
      case "heartbeat":
        this.handle({ kind: "worker", peer: `m${c.w}`, msg: { type: "heartbeat", interval: 1000 } });
        return;
      case "advance": {
        const target = this.now + c.ms;
        for (let at = this.core.nextDeadline(); at !== undefined && at <= target; at = this.core.nextDeadline()) {
          this.now = Math.max(this.now, at);
          this.tick();
        }
        this.now = target;
        this.tick();
        return;
      }
      case "cancel": {
        const peer = `c${(c.pick % Math.max(1, this.clients)) + 1}`;
        const id = this.corr.get(peer);
        if (id !== undefined) this.handle({ kind: "client", peer, msg: { type: "cancel", path: PATH, id } });
        return;
      }
      case "admin": {
        const before = this.counters().requests;
        if (c.op === "drain") {
          this.handle({ kind: "admin", peer: "a", msg: { type: "drain", path: PATH, worker: `w${(c.pick % 6) + 1}`, drain: c.pick % 2 === 0 } });
        } else {
          const task = this.allTasks[c.pick % Math.max(1, this.allTasks.length)];
          if (task !== undefined) this.handle({ kind: "admin", peer: "a", msg: { type: c.op, path: PATH, task } });
        }
        this.noteNewTasks(before, undefined);
        return;
      }
      case "shutdown":
        this.handle({ kind: "shutdown", grace: c.grace });
        return;
    }
  }

  private tick(): void {
    // A modern worker lost by heartbeat expiry is forgotten by the broker; the model learns it from the snapshot.
    this.apply(this.core.tick(this.now));
    const alive = new Set(this.core.snapshot({}, this.now).workers.map((w) => w.name));
    for (const peer of [...this.modern.keys()]) if (!alive.has(peer)) this.modern.delete(peer);
  }

  private noteNewTasks(before: number, client: string | undefined): void {
    const after = this.counters().requests;
    for (let n = before + 1; n <= after; n++) {
      const id = `p-${n.toString(36)}`;
      this.allTasks.push(id);
      if (client !== undefined) this.taskClient.set(id, client);
    }
    if (client !== undefined && after === before) this.rejected.add(client);
  }

  counters() {
    return this.core.snapshot({}, this.now).counters;
  }

  check(): void {
    const snap = this.core.snapshot({}, this.now);
    const c = snap.counters;
    // Exactly one reply once resolved, none before.
    for (const [id, client] of this.taskClient) {
      const state = this.core.inspect(id)?.task.state;
      assert.ok(state !== undefined, `task ${id} vanished`);
      const want = state === "queued" || state === "running" ? 0 : 1;
      assert.equal(this.replies.get(client) ?? 0, want, `task ${id} is ${state}: client ${client} has ${this.replies.get(client) ?? 0} replies`);
    }
    for (const client of this.rejected) assert.equal(this.replies.get(client), 1, `rejected ${client} not answered once`);
    // Counters match the task table.
    const count = (state: TaskState) => this.core.snapshot({ tasks: { state } }, this.now).tasks.total;
    assert.equal(c.queued, count("queued"));
    assert.equal(c.running, count("running"));
    assert.equal(c.succeeded, count("succeeded"));
    assert.equal(c.failed, count("failed"));
    assert.equal(c.cancelled, count("cancelled"));
    assert.equal(c.queued + c.running + c.succeeded + c.failed + c.cancelled, c.requests);
    assert.equal(c.replies, this.replyCount);
    assert.equal(c.workers, snap.workers.length);
    // Capacity and attempts: a worker holds at most its capacity; each running task has one open attempt.
    let open = 0;
    for (const w of snap.workers) {
      assert.ok(w.held <= w.capacity, `${w.id} holds ${w.held} > ${w.capacity}`);
      if (w.kind === "modern") assert.equal(w.held, w.tasks.length);
      open += w.tasks.length;
    }
    if (snap.broker.state !== "stopping") assert.equal(open, c.running);
  }
}

describe("core properties: random interleavings keep the scheduling invariants", () => {
  it("answers each request at most once and exactly once after resolution, never exceeds capacity, only sends to workers that asked, and keeps counters equal to the task table", () => {
    fc.assert(
      fc.property(settings, fc.array(cmd, { maxLength: 80 }), (cfg, cmds) => {
        const model = new Model(cfg.tries, cfg.timeout, cfg.maxQueue);
        for (const c of cmds) {
          model.step(c);
          model.check();
        }
        // Shut down and let the grace pass: every accepted request has its one reply.
        model.step({ c: "shutdown", grace: 100 });
        model.step({ c: "advance", ms: 2500 }); // past any grace, including an earlier random shutdown's
        model.check();
        for (const client of model.taskClient.values()) assert.equal(model.replies.get(client), 1);
      }),
      { numRuns: 300, seed: 20240601 },
    );
  });
});
