/**
 * Every task the broker knows — queued, running, and the bounded history of finished ones — by id and by state
 * (protocol/spec.md §Admin: TaskView, `--history`). Lookups are Map lookups; paging walks one state's list.
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
import { HistoryRing } from "./history";

/** Who gets the one reply (rule 7); absent for admin retries. */
export interface ClientRef {
  readonly peer: PeerKey;
  readonly path: RoutingPath;
  readonly enveloped: boolean;
  /** The client's correlation id (enveloped REQUEST `id`). */
  readonly correlation: string | undefined;
}

/** One dispatch of a task to a worker (rule 3: each dispatch is one attempt). */
export interface Attempt {
  /** An attempt is its own deadline's timer data (one object less per dispatch). */
  readonly kind: "attempt";
  readonly task: Task;
  readonly worker: Worker;
  readonly number: number;
  deadline: number | null;
  timer: Timer<unknown> | undefined;
}

export interface Task {
  readonly id: string;
  /** Creation order: the FIFO position of a task across services. */
  readonly seq: number;
  readonly service: string;
  readonly origin: "plain" | "enveloped" | "admin";
  readonly client: ClientRef | undefined;
  readonly payload: Frame[];
  readonly size: number;
  readonly maxAttempts: number | null;
  readonly timeout: number | null;
  readonly createdAt: number;
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
  /** The neighbours in this task's state list; owned by TaskTable. */
  statePrev: Task | undefined;
  stateNext: Task | undefined;
}

/** The tasks of one state, oldest entry first (re-entering a state appends). */
interface StateList {
  head: Task | undefined;
  tail: Task | undefined;
  count: number;
}

export type NewTask = Pick<Task, "service" | "origin" | "client" | "payload" | "maxAttempts" | "timeout" | "createdAt">;

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
  private readonly history: HistoryRing<Task>;
  private counter = 0;

  constructor(
    private readonly bootNonce: string,
    history: number,
  ) {
    this.history = new HistoryRing<Task>(history);
    this.prefix = asciiFrame(`${bootNonce}-`);
  }

  get size(): number {
    return this.bySeq.size;
  }

  get(id: string): Task | undefined {
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
    if (digits < 1 || digits > MAX_COUNTER_DIGITS || frame[start] === 0x30) return undefined;
    for (let i = 0; i < start; i++) if (frame[i] !== this.prefix[i]) return undefined;
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
    const id = `${this.bootNonce}-${this.counter.toString(36)}`;
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
      id,
      seq: this.counter,
      size,
      state: "queued",
      attempts: 0,
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
      statePrev: undefined,
      stateNext: undefined,
    };
    this.bySeq.set(task.seq, task);
    this.append(this.list("queued"), task);
    return task;
  }

  /** Moves `task` to `state` (re-entering a state moves it to the end of that state's order). */
  setState(task: Task, state: TaskState): void {
    this.unlink(this.list(task.state), task);
    task.state = state;
    this.append(this.list(state), task);
  }

  /** Files a finished task in the history; returns the task pushed out of it, now forgotten. */
  retire(task: Task): Task | undefined {
    const evicted = this.history.push(task);
    if (evicted !== undefined) {
      this.bySeq.delete(evicted.seq);
      this.unlink(this.list(evicted.state), evicted);
    }
    return evicted;
  }

  count(state?: TaskState): number {
    return state === undefined ? this.bySeq.size : this.list(state).count;
  }

  /** Tasks of `state` (or all, in creation order), skipping `offset`, at most `limit`: O(offset + limit). */
  page(state: TaskState | undefined, offset: number, limit: number): Task[] {
    const items: Task[] = [];
    let skipped = 0;
    if (state === undefined) {
      for (const task of this.bySeq.values()) {
        if (items.length >= limit) break;
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
      list = { head: undefined, tail: undefined, count: 0 };
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
  }
}
