/**
 * Every task the broker knows — queued, running, finished ones in the history, and finished ones kept only for their
 * idempotency key — by id and by state (protocol/spec.md §Admin: TaskView, `--history`; §Durability). Lookups are Map
 * lookups; paging walks one state's list. A finished state's list, oldest first, is that state's history: the core
 * trims it from the head.
 *
 * Tasks are found by their creation counter, parsed back out of the id (`<boot-nonce>-<counter base36>`), not by the
 * id string: a Map with small-integer keys costs a fraction of a string-keyed one once it holds 100 000 tasks (no
 * string hashing or comparing, fewer cache misses), and a worker's task-id frame is parsed without building a string.
 *
 * Memory per queued task is what bounds a broker under a burst, so a task retains as little as it can: no id frame
 * (built at each send), holders only once dispatched, and the per-state order as two links on the task itself
 * (an intrusive doubly-linked list: O(1) moves without a Map entry per task, and no Map churn per state change).
 */
import type { FailureReason, Frame, RoutingPath, TaskState } from "../protocol/messages";
import type { PeerKey } from "./api";
import type { Timer } from "./timer-heap";
import type { Worker } from "./worker-table";
import { FRAME_COST } from "./retention";

/** Who gets the one reply (rule 7); absent for admin retries. */
export interface ClientRef {
  readonly peer: PeerKey;
  readonly path: RoutingPath;
  readonly enveloped: boolean;
  /** The client's correlation id (enveloped REQUEST `id`). */
  readonly correlation: string | undefined;
}

/**
 * What cluster mode adds to a task. `origin`: this broker's client waits for it; it is in the shared queue (`seq` once
 * stored) and its reply comes from whichever broker runs it. `leased`: a delivery of another (or this) broker's
 * request, run by this broker's workers under `lease`; its outcome goes to `ref` at broker `from`.
 */
export type ClusterHold =
  | { readonly role: "origin"; seq: number | undefined; awaiting: boolean }
  | {
      readonly role: "leased";
      /** The current delivery's lease (a task delivered here again while still here keeps running under the new one). */
      lease: string;
      readonly from: string;
      readonly ref: string;
      readonly key: string | null;
    };

/** One dispatch of a task to a worker (rule 3: each dispatch is one attempt). */
export interface Attempt {
  /** An attempt is its own deadline's timer data (one object less per dispatch). */
  readonly kind: "attempt";
  readonly task: Task;
  readonly worker: Worker;
  readonly number: number;
  /** When it was dispatched (for the attempt-duration histogram). */
  readonly startedAt: number;
  deadline: number | null;
  timer: Timer<unknown> | undefined;
}

export interface Task {
  readonly id: string;
  /** The idempotency key (REQUEST `key`), if the client gave one. */
  readonly key: string | undefined;
  /** Later requests with the same key, attached to this task: they get its reply too (§Idempotent requests). */
  waiters: ClientRef[] | undefined;
  /** Until when a resend with the key is answered from this finished task; 0 = not kept. */
  keptUntil: number;
  /** In its state's list (false once pushed out of the history while its result is still kept). */
  listed: boolean;
  /**
   * Running when the broker stopped (§Durability, recovery): the worker that held it is unknown, so an answer naming
   * it is accepted from any worker until the task finishes (first answer wins).
   */
  orphan: boolean;
  /** Name of the worker whose answer or attempt ended it (REPLY `worker`), kept across a restart. */
  workerName: string | undefined;
  /** Creation order: the FIFO position of a task across services. */
  readonly seq: number;
  readonly service: string;
  readonly origin: "plain" | "enveloped" | "admin" | "cluster";
  readonly client: ClientRef | undefined;
  readonly payload: Frame[];
  readonly size: number;
  /** What the task counted for in its state's octets when it entered it (see TaskTable.bytes); owned by TaskTable. */
  listedCost: number;
  readonly maxAttempts: number | null;
  readonly timeout: number | null;
  readonly createdAt: number;
  /** The timer of the request's deadline (§Request deadlines), set while a task with one is live. */
  expiry: Timer<unknown> | undefined;
  state: TaskState;
  /** Attempts made so far. */
  attempts: number;
  /** The open attempt; set exactly while the task is running. */
  current: Attempt | undefined;
  /**
   * Ids of every worker that was ever sent this task, each once (rule 8: late vs foreign); undefined until the first
   * dispatch. An array: a task is held by few workers, and an empty Set costs ~100 bytes per queued task.
   */
  holders: string[] | undefined;
  /** The worker of the latest attempt, for views and the reply's `worker`. */
  lastWorker: Worker | undefined;
  /** The latest legacy worker that held it: a legacy answer names no worker. */
  lastLegacy: Worker | undefined;
  /** A worker to skip at the next dispatch while another is free (rule 4). */
  avoid: Worker | undefined;
  dispatchedAt: number | undefined;
  finishedAt: number | undefined;
  reason: FailureReason | undefined;
  message: string | undefined;
  reply: Frame[] | undefined;
  /** Cluster mode (§Cluster mode): a request of this broker's client in the shared queue, or a task leased from it. */
  cluster: ClusterHold | undefined;
  /** The neighbours in this task's state list; owned by TaskTable. */
  statePrev: Task | undefined;
  stateNext: Task | undefined;
}

/** The tasks of one state, oldest entry first (re-entering a state appends). */
interface StateList {
  head: Task | undefined;
  tail: Task | undefined;
  count: number;
  /** Octets of the listed tasks' payload and reply frames, each frame plus FRAME_COST. */
  bytes: number;
}

export type NewTask = Pick<Task, "service" | "origin" | "client" | "payload" | "maxAttempts" | "timeout" | "createdAt" | "key">;

/** A task as a journal gives it back (§Durability): its creation counter, its state and what it had reached. */
export interface RestoredTask extends NewTask {
  readonly seq: number;
  readonly state: TaskState;
  readonly attempts: number;
}

/** Task ids are printable ASCII (`<boot-nonce>-<counter base36>`), so one byte per character both ways. */
export function asciiFrame(text: string): Frame {
  const frame = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) frame[i] = text.charCodeAt(i) & 0xff;
  return frame;
}

/** Base-36 digits of the counter: 36^10 < 2^53, so every counter this broker can reach fits. */
const MAX_COUNTER_DIGITS = 10;

/** The value of a base-36 digit in ASCII lowercase (what Number#toString(36) writes), else -1. */
function digit36(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 10;
  return -1;
}

export class TaskTable {
  /** By creation counter (`seq`), in creation order. */
  private readonly bySeq = new Map<number, Task>();
  /** `<boot-nonce>-` as octets, to match id frames without decoding them. */
  private readonly prefix: Uint8Array;
  private readonly byState = new Map<TaskState, StateList>();
  /** Cluster mode: tasks whose id another broker gave them (its clients' requests, run here), by that id. */
  private readonly foreign = new Map<string, Task>();
  private readonly prefixText: string;
  private counter = 0;

  constructor(private readonly bootNonce: string) {
    this.prefixText = `${bootNonce}-`;
    this.prefix = asciiFrame(this.prefixText);
  }

  get size(): number {
    return this.bySeq.size;
  }

  get(id: string): Task | undefined {
    if (this.foreign.size > 0 && !id.startsWith(this.prefixText)) return this.foreign.get(id);
    // asciiFrame keeps only the low byte of each character: anything beyond ASCII can never be one of our ids.
    for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) > 0x7e) return undefined;
    return this.byFrame(asciiFrame(id));
  }

  /**
   * The task whose id is exactly `frame`. Only the canonical spelling of a counter matches (lowercase, no leading
   * zero), so two different ids never name the same task.
   */
  byFrame(frame: Frame): Task | undefined {
    const start = this.prefix.length;
    const digits = frame.length - start;
    for (let i = 0; i < start; i++) if (frame[i] !== this.prefix[i]) return this.foreignByFrame(frame);
    if (digits < 1 || digits > MAX_COUNTER_DIGITS || frame[start] === 0x30) return undefined;
    let seq = 0;
    for (let i = start; i < frame.length; i++) {
      const value = digit36(frame[i] as number);
      if (value < 0) return undefined;
      seq = seq * 36 + value;
    }
    return this.bySeq.get(seq);
  }

  create(init: NewTask): Task {
    this.counter++;
    return this.insert(init, this.counter, "queued", 0);
  }

  /**
   * Cluster mode: a task with the id another broker of the cluster gave it (the id its client and its worker see).
   * It still takes a creation counter here, for its place in this broker's order. The id must not be in use here.
   */
  createForeign(init: NewTask, id: string): Task {
    if (this.foreign.has(id)) throw new Error(`task ${id} is here already`);
    this.counter++;
    const task = this.insert(init, this.counter, "queued", 0, id);
    this.foreign.set(id, task);
    return task;
  }

  /** Cluster mode: the task with an id another broker gave it (or this broker's own request, run here), if still here. */
  foreignTask(id: string): Task | undefined {
    return this.foreign.get(id);
  }

  private foreignByFrame(frame: Frame): Task | undefined {
    if (this.foreign.size === 0) return undefined;
    let id = "";
    for (const octet of frame) id += String.fromCharCode(octet);
    return this.foreign.get(id);
  }

  /**
   * Puts back a task read from the journal, with its own counter (so its id is the one it had), in `state`; later
   * `create`s continue after the highest counter restored. Restore in the order each state's list should have.
   */
  restore(init: RestoredTask): Task {
    if (this.bySeq.has(init.seq)) throw new Error(`task counter ${init.seq} restored twice`);
    this.counter = Math.max(this.counter, init.seq);
    return this.insert(init, init.seq, init.state, init.attempts);
  }

  private insert(init: NewTask, seq: number, state: TaskState, attempts: number, given?: string): Task {
    const id = given ?? `${this.bootNonce}-${seq.toString(36)}`;
    let size = 0;
    for (const frame of init.payload) size += frame.length;
    // An explicit literal, not a spread: V8 then gives every task one fast hidden class (a spread of this many
    // members made dictionary-mode objects, ~30 µs per create and kilobytes per task).
    const task: Task = {
      service: init.service,
      origin: init.origin,
      client: init.client,
      payload: init.payload,
      maxAttempts: init.maxAttempts,
      timeout: init.timeout,
      createdAt: init.createdAt,
      expiry: undefined,
      id,
      key: init.key,
      waiters: undefined,
      keptUntil: 0,
      listed: true,
      orphan: false,
      workerName: undefined,
      seq,
      size,
      listedCost: 0,
      state,
      attempts,
      current: undefined,
      holders: undefined,
      lastWorker: undefined,
      lastLegacy: undefined,
      avoid: undefined,
      dispatchedAt: undefined,
      finishedAt: undefined,
      reason: undefined,
      message: undefined,
      reply: undefined,
      cluster: undefined,
      statePrev: undefined,
      stateNext: undefined,
    };
    this.bySeq.set(task.seq, task);
    this.append(this.list(state), task);
    return task;
  }

  /** Moves `task` to `state` (re-entering a state moves it to the end of that state's order). */
  setState(task: Task, state: TaskState): void {
    if (task.listed) this.unlink(this.list(task.state), task);
    task.state = state;
    task.listed = true;
    this.append(this.list(state), task);
  }

  /** The task that entered `state` first among those still listed in it (the next one a history bound pushes out). */
  oldest(state: TaskState): Task | undefined {
    return this.list(state).head;
  }

  /** Takes `task` out of its state's list (views no longer show it) but keeps it findable by id and id frame. */
  detach(task: Task): void {
    if (!task.listed) return;
    this.unlink(this.list(task.state), task);
    task.listed = false;
  }

  /** Forgets `task` entirely. */
  forget(task: Task): void {
    this.detach(task);
    this.bySeq.delete(task.seq);
    if (this.foreign.get(task.id) === task) this.foreign.delete(task.id);
  }

  /** Listed tasks of `state`, or of every state (tasks kept only for their key are not counted). */
  count(state?: TaskState): number {
    if (state !== undefined) return this.list(state).count;
    let total = 0;
    for (const list of this.byState.values()) total += list.count;
    return total;
  }

  /** Octets the listed tasks of `state` keep: payload and reply frames, each frame counted with FRAME_COST. */
  bytes(state: TaskState): number {
    return this.list(state).bytes;
  }

  /** Tasks of `state` (or all, in creation order), skipping `offset`, at most `limit`: O(offset + limit). */
  page(state: TaskState | undefined, offset: number, limit: number): Task[] {
    const items: Task[] = [];
    let skipped = 0;
    if (state === undefined) {
      for (const task of this.bySeq.values()) {
        if (items.length >= limit) break;
        if (!task.listed) continue;
        if (skipped < offset) skipped++;
        else items.push(task);
      }
      return items;
    }
    for (let task = this.list(state).head; task !== undefined && items.length < limit; task = task.stateNext) {
      if (skipped < offset) skipped++;
      else items.push(task);
    }
    return items;
  }

  /** A copy of the tasks in `state`, in order (callers change states while walking it). */
  inState(state: TaskState): Task[] {
    const items: Task[] = [];
    for (let task = this.list(state).head; task !== undefined; task = task.stateNext) items.push(task);
    return items;
  }

  private list(state: TaskState): StateList {
    let list = this.byState.get(state);
    if (list === undefined) {
      list = { head: undefined, tail: undefined, count: 0, bytes: 0 };
      this.byState.set(state, list);
    }
    return list;
  }

  private append(list: StateList, task: Task): void {
    task.statePrev = list.tail;
    task.stateNext = undefined;
    if (list.tail === undefined) list.head = task;
    else list.tail.stateNext = task;
    list.tail = task;
    list.count++;
    task.listedCost = keptCost(task);
    list.bytes += task.listedCost;
  }

  private unlink(list: StateList, task: Task): void {
    const { statePrev, stateNext } = task;
    if (statePrev === undefined) list.head = stateNext;
    else statePrev.stateNext = stateNext;
    if (stateNext === undefined) list.tail = statePrev;
    else stateNext.statePrev = statePrev;
    task.statePrev = undefined;
    task.stateNext = undefined;
    list.count--;
    list.bytes -= task.listedCost;
    task.listedCost = 0;
  }
}

/** What frames cost to keep: their octets plus FRAME_COST each (§Limits). */
export function framesCost(frames: readonly Uint8Array[]): number {
  let cost = frames.length * FRAME_COST;
  for (const frame of frames) cost += frame.length;
  return cost;
}

/** What a task's payload costs to keep (as framesCost, from the task's size). */
export function payloadCost(task: Task): number {
  return task.size + task.payload.length * FRAME_COST;
}

/** What a task's payload and reply cost to keep (§Limits, history and kept results). */
export function keptCost(task: Task): number {
  return payloadCost(task) + framesCost(task.reply ?? []);
}
