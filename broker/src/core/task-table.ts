/**
 * Every task the broker knows — queued, running, and the bounded history of finished ones — by id and by state
 * (protocol/spec.md §Admin: TaskView, `--history`). Lookups are Map lookups; paging walks one state's map.
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
  readonly task: Task;
  readonly worker: Worker;
  readonly number: number;
  deadline: number | null;
  timer: Timer<unknown> | undefined;
}

export interface Task {
  readonly id: string;
  readonly idFrame: Frame;
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
  /** Ids of every worker that was ever sent this task (rule 8: late vs foreign). */
  readonly holders: Set<string>;
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
}

export type NewTask = Pick<Task, "service" | "origin" | "client" | "payload" | "maxAttempts" | "timeout" | "createdAt">;

/** Task ids are printable ASCII (`<boot-nonce>-<counter base36>`), so one byte per character both ways. */
export function asciiFrame(text: string): Frame {
  const frame = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) frame[i] = text.charCodeAt(i) & 0xff;
  return frame;
}

export function frameAscii(frame: Frame): string {
  let text = "";
  for (const byte of frame) text += String.fromCharCode(byte);
  return text;
}

export class TaskTable {
  private readonly byId = new Map<string, Task>();
  private readonly byState = new Map<TaskState, Map<string, Task>>();
  private readonly history: HistoryRing<Task>;
  private counter = 0;

  constructor(
    private readonly bootNonce: string,
    history: number,
  ) {
    this.history = new HistoryRing<Task>(history);
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Task | undefined {
    return this.byId.get(id);
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
      idFrame: asciiFrame(id),
      seq: this.counter,
      size,
      state: "queued",
      attempts: 0,
      current: undefined,
      holders: new Set(),
      lastWorker: undefined,
      lastLegacy: undefined,
      avoid: undefined,
      dispatchedAt: undefined,
      finishedAt: undefined,
      reason: undefined,
      message: undefined,
      reply: undefined,
    };
    this.byId.set(id, task);
    this.stateMap("queued").set(id, task);
    return task;
  }

  /** Moves `task` to `state` (re-entering a state moves it to the end of that state's order). */
  setState(task: Task, state: TaskState): void {
    this.stateMap(task.state).delete(task.id);
    task.state = state;
    this.stateMap(state).set(task.id, task);
  }

  /** Files a finished task in the history; returns the task pushed out of it, now forgotten. */
  retire(task: Task): Task | undefined {
    const evicted = this.history.push(task);
    if (evicted !== undefined) {
      this.byId.delete(evicted.id);
      this.stateMap(evicted.state).delete(evicted.id);
    }
    return evicted;
  }

  count(state?: TaskState): number {
    return state === undefined ? this.byId.size : this.stateMap(state).size;
  }

  /** Tasks of `state` (or all, in creation order), skipping `offset`, at most `limit`: O(offset + limit). */
  page(state: TaskState | undefined, offset: number, limit: number): Task[] {
    const source = state === undefined ? this.byId : this.stateMap(state);
    const items: Task[] = [];
    let skipped = 0;
    for (const task of source.values()) {
      if (items.length >= limit) break;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      items.push(task);
    }
    return items;
  }

  inState(state: TaskState): Task[] {
    return [...this.stateMap(state).values()];
  }

  private stateMap(state: TaskState): Map<string, Task> {
    let map = this.byState.get(state);
    if (map === undefined) {
      map = new Map();
      this.byState.set(state, map);
    }
    return map;
  }
}
