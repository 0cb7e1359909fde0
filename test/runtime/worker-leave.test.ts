/**
 * The TS Worker against a scripted broker over real sockets: leaving without losing work, CANCEL with a reason of a
 * later revision, a TASK for a service it did not announce, and the same id again after CANCEL timeout.
 */
import assert from "node:assert/strict";
import { Router } from "zeromq";
import { decodeWorker, encodeToWorker } from "../../broker/src/codec";
import type { BrokerToWorker, WorkerMessage } from "../../broker/src/protocol/messages";
import { TaskCancelledError, Worker, type WorkerTask } from "../../broker/src/worker";

const header = (service = "default", timeout: number | null = null) => ({ service, attempt: 1, attempts: null, timeout });

class ScriptedBroker {
  peer: Buffer | undefined;
  private constructor(readonly router: Router) {}

  static async bind(): Promise<ScriptedBroker> {
    const router = new Router({ linger: 0 });
    await router.bind("tcp://127.0.0.1:*");
    return new ScriptedBroker(router);
  }

  get endpoint(): string {
    return this.router.lastEndpoint ?? "";
  }

  /** The next message that is not a HEARTBEAT. */
  async next(): Promise<WorkerMessage> {
    for (;;) {
      const [peer, ...frames] = await this.router.receive();
      const msg = decodeWorker(frames);
      if (msg.type === "heartbeat") continue;
      if (msg.type === "ready") this.peer = peer;
      return msg;
    }
  }

  async send(msg: BrokerToWorker): Promise<void> {
    await this.sendFrames(encodeToWorker(msg));
  }

  async sendFrames(frames: (Uint8Array | string)[]): Promise<void> {
    assert.ok(this.peer !== undefined);
    await this.router.send([this.peer, ...frames]);
  }

  async registered(): Promise<void> {
    assert.equal((await this.next()).type, "ready");
    await this.send({ type: "heartbeat", interval: 1000 });
  }
}

/** A handler whose tasks finish when the test says (or never), recording how each ended. */
class Gate {
  readonly started: WorkerTask[] = [];
  readonly aborted: string[] = [];
  private readonly release = new Map<string, () => void>();
  private waiters: (() => void)[] = [];

  readonly handler = (task: WorkerTask): Promise<Uint8Array[]> =>
    new Promise((resolve, reject) => {
      this.started.push(task);
      this.release.set(task.id, () => resolve([Buffer.from(`done ${task.id}`)]));
      task.signal.addEventListener("abort", () => {
        const reason: unknown = task.signal.reason;
        this.aborted.push(`${task.id}:${reason instanceof TaskCancelledError ? reason.reason : "?"}`);
        reject(reason);
      });
      for (const wake of this.waiters.splice(0)) wake();
    });

  finish(id: string): void {
    this.release.get(id)?.();
  }

  async startedCount(n: number): Promise<void> {
    while (this.started.length < n) await new Promise<void>((wake) => this.waiters.push(wake));
  }
}

describe("Worker: leaving without losing work and 1.1's worker-side rules", () => {
  let broker: ScriptedBroker | undefined;
  let worker: Worker | undefined;

  afterEach(async () => {
    await worker?.close();
    broker?.router.close();
  });

  async function start(gate: Gate, capacity = 2): Promise<ScriptedBroker> {
    broker = await ScriptedBroker.bind();
    worker = new Worker({ endpoint: broker.endpoint, capacity, heartbeat: 1000, handler: gate.handler });
    worker.start();
    await broker.registered();
    return broker;
  }

  it("leave(): announces bye+finish, finishes a held task, gives back a TASK that crossed, then says bye", async () => {
    const gate = new Gate();
    const b = await start(gate);
    await b.send({ type: "task", task: Buffer.from("t-1"), header: header(), payload: [Buffer.from("x")] });
    await gate.startedCount(1);
    const leaving = worker?.leave(60_000);
    assert.deepEqual(await b.next(), { type: "disconnect", detail: { reason: "bye", finish: true } });
    await b.send({ type: "task", task: Buffer.from("t-2"), header: header(), payload: [] });
    const back = await b.next();
    assert.ok(back.type === "fail");
    assert.equal(Buffer.from(back.task).toString(), "t-2");
    assert.equal(back.returned, true);
    assert.equal(back.retryable, true);
    gate.finish("t-1");
    const result = await b.next();
    assert.ok(result.type === "result" && Buffer.from(result.task).toString() === "t-1");
    assert.deepEqual(await b.next(), { type: "disconnect", detail: { reason: "bye" } });
    await leaving;
    assert.equal(await worker?.stopped, "left");
    assert.equal(gate.started.length, 1, "the crossing TASK never reached the handler");
  });

  it("leave() gives back what is still held when the grace period ends", async () => {
    const gate = new Gate();
    const b = await start(gate);
    await b.send({ type: "task", task: Buffer.from("t-1"), header: header(), payload: [] });
    await gate.startedCount(1);
    const leaving = worker?.leave(50);
    assert.equal((await b.next()).type, "disconnect");
    const back = await b.next();
    assert.ok(back.type === "fail" && back.returned === true && Buffer.from(back.task).toString() === "t-1");
    assert.deepEqual(await b.next(), { type: "disconnect", detail: { reason: "bye" } });
    await leaving;
    assert.deepEqual(gate.aborted, ["t-1:given-back"]);
  });

  it("a broker before 1.1 refuses finish with protocol-error: the worker stops instead of reconnecting", async () => {
    const gate = new Gate();
    const b = await start(gate);
    const leaving = worker?.leave(60_000);
    assert.equal((await b.next()).type, "disconnect");
    await b.send({ type: "disconnect", detail: { reason: "protocol-error", message: "ZTB_ERR_SCHEMA" } });
    await leaving;
    assert.equal(await worker?.stopped, "left");
  });

  it("CANCEL with a reason of a later revision still frees the slot: the next TASK runs (capacity 1)", async () => {
    const gate = new Gate();
    const b = await start(gate, 1);
    await b.send({ type: "task", task: Buffer.from("t-1"), header: header(), payload: [] });
    await gate.startedCount(1);
    await b.sendFrames(["", "ZTBW01", "CANCEL", "t-1", '{"reason":"preempted"}']);
    await b.send({ type: "task", task: Buffer.from("t-2"), header: header(), payload: [] });
    await gate.startedCount(2);
    assert.deepEqual(gate.aborted, ["t-1:cancelled"]);
    gate.finish("t-2");
    const result = await b.next();
    assert.ok(result.type === "result" && Buffer.from(result.task).toString() === "t-2");
  });

  it("a TASK for a service it did not announce is answered FAIL retryable, naming the service", async () => {
    const gate = new Gate();
    const b = await start(gate);
    await b.send({ type: "task", task: Buffer.from("t-1"), header: header("resize"), payload: [] });
    const fail = await b.next();
    assert.ok(fail.type === "fail");
    assert.equal(fail.retryable, true);
    assert.match(fail.message, /service resize/);
    assert.equal(gate.started.length, 0);
  });

  it("the same id after CANCEL timeout: the earlier run is abandoned and only the new one answers", async () => {
    const gate = new Gate();
    const b = await start(gate, 1);
    await b.send({ type: "task", task: Buffer.from("t-1"), header: header(), payload: [] });
    await gate.startedCount(1);
    await b.send({ type: "cancel", task: Buffer.from("t-1"), reason: "timeout" });
    await b.send({ type: "task", task: Buffer.from("t-1"), header: { ...header(), attempt: 2 }, payload: [] });
    await gate.startedCount(2);
    assert.deepEqual(gate.aborted, ["t-1:timeout"]);
    gate.finish("t-1");
    const result = await b.next();
    assert.ok(result.type === "result" && Buffer.from(result.task).toString() === "t-1");
    assert.equal(worker?.held, 0);
  });
});
