/**
 * The chaos run's view of the broker through its admin endpoint (protocol/spec.md §Admin): a SUBSCRIBE lease renewed
 * every few seconds, EVENT upserts folded into the latest state of each worker and of each unfinished task, the final
 * reason of every failed task by its tag (the preview of its first payload frame; plain clients learn no reason), and
 * the re-dispatch watch on killed workers.
 *
 * Re-dispatch time (decision): from the SIGKILL to the first EVENT whose `time` shows every task the killed worker
 * held — per the last EVENT before the kill — running on another worker or finished. EVENTs are coalesced over at most
 * 100 ms, so the figure is an upper bound that includes up to 100 ms of coalescing. Detection time is the same clock up
 * to the EVENT that removes the worker.
 */
import { Dealer } from "zeromq";
import { decodeAdminReply, encodeAdmin } from "../../broker/src/codec";
import type { AdminEvent, Counters, FailureReason, Snapshot, TaskState, WorkerView } from "../../broker/src/protocol/messages";
import { SendQueue } from "../../broker/src/peer/send-queue";

const EMPTY = new Uint8Array(0);
const RENEW_MS = 3000;
const LEASE_MS = 10_000;

export interface FinalFailure {
  state: TaskState;
  reason: FailureReason | undefined;
  attempts: number;
}

export interface KillWatch {
  readonly worker: string;
  readonly name: string;
  readonly killedAt: number;
  /** Tasks the worker held at the kill. */
  readonly held: number;
  readonly pending: Set<string>;
  /** ms from the kill to the EVENT that removed the worker. */
  detectedAfter?: number;
  /** ms from the kill to the EVENT by which every held task ran elsewhere or had finished. */
  redispatchedAfter?: number;
}

export class AdminMonitor {
  readonly workers = new Map<string, WorkerView>();
  /** Failed and cancelled tasks by tag. */
  readonly failures = new Map<string, FinalFailure>();
  readonly watches: KillWatch[] = [];
  counters: Counters | undefined;
  events = 0;
  /** EVENT sequence gaps (EVENTs dropped at the high-water mark): the monitor's view may then miss a change. */
  gaps = 0;

  private readonly socket = new Dealer({ linger: 0 });
  private readonly queue = new SendQueue(this.socket);
  private readonly unfinished = new Map<string, { state: TaskState; worker: string | null }>();
  private seq: number | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private snapshotWaiters: ((snapshot: Snapshot) => void)[] = [];
  private ackWaiters: (() => void)[] = [];
  private closed = false;

  constructor(endpoint: string) {
    this.socket.connect(endpoint);
    void this.receive();
  }

  /** Subscribes and resolves on the first ACK. */
  async start(): Promise<void> {
    const acked = new Promise<void>((resolve) => this.ackWaiters.push(resolve));
    this.subscribe();
    this.renewTimer = setInterval(() => this.subscribe(), RENEW_MS);
    await acked;
  }

  snapshot(): Promise<Snapshot> {
    const reply = new Promise<Snapshot>((resolve) => this.snapshotWaiters.push(resolve));
    void this.queue.send(encodeAdmin({ type: "snapshot", path: [EMPTY], query: { tasks: { limit: 1 } } }));
    return reply;
  }

  /** Call just before SIGKILLing the worker named `name`. */
  watchKill(name: string, killedAt: number): KillWatch | undefined {
    const view = [...this.workers.values()].find((worker) => worker.name === name);
    if (view === undefined) return undefined;
    const watch: KillWatch = { worker: view.id, name, killedAt, held: view.tasks.length, pending: new Set(view.tasks) };
    if (watch.held === 0) watch.redispatchedAfter = 0;
    this.watches.push(watch);
    return watch;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.renewTimer);
    this.queue.close();
    this.socket.close();
  }

  private subscribe(): void {
    if (!this.closed) this.queue.post(encodeAdmin({ type: "subscribe", path: [EMPTY], lease: LEASE_MS }));
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const reply = decodeAdminReply(frames);
        if (reply.type === "event") this.onEvent(reply.event);
        else if (reply.type === "ack") for (const resolve of this.ackWaiters.splice(0)) resolve();
        else if (reply.type === "snapshot") this.snapshotWaiters.shift()?.(reply.snapshot);
      }
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  private onEvent(event: AdminEvent): void {
    this.events++;
    if (this.seq !== undefined && event.seq !== this.seq + 1) this.gaps++;
    this.seq = event.seq;
    this.counters = event.counters;
    for (const worker of event.workers) this.workers.set(worker.id, worker);
    for (const id of event.removed.workers) {
      this.workers.delete(id);
      for (const watch of this.watches) {
        if (watch.worker === id && watch.detectedAfter === undefined) watch.detectedAfter = event.time - watch.killedAt;
      }
    }
    for (const task of event.tasks) {
      const finished = task.state !== "queued" && task.state !== "running";
      if (finished) this.unfinished.delete(task.id);
      else this.unfinished.set(task.id, { state: task.state, worker: task.worker });
      if ((task.state === "failed" || task.state === "cancelled") && "text" in task.preview) {
        this.failures.set(task.preview.text, { state: task.state, reason: task.reason, attempts: task.attempt });
      }
      for (const watch of this.watches) {
        if (!watch.pending.has(task.id)) continue;
        if (!finished && (task.state !== "running" || task.worker === watch.worker)) continue;
        watch.pending.delete(task.id);
        // An EVENT emitted before the kill only tells that the task was no longer held: no latency to record.
        if (watch.pending.size === 0 && watch.redispatchedAfter === undefined) {
          watch.redispatchedAfter = Math.max(0, event.time - watch.killedAt);
        }
      }
    }
  }
}
