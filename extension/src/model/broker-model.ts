/**
 * What the extension knows about one broker, built from the admin protocol (ztb-brief §Admin): a SNAPSHOT replaces
 * everything, then each EVENT upserts and removes tasks and workers. Pure: no vscode, no sockets, no clock.
 *
 * Bounded: queued and running tasks are always kept (the broker bounds them); finished tasks are kept up to
 * `historySize` PER STATE, the one finished longest ago (by arrival in this model) dropped first, in O(1) per task.
 * Per state because failures are what people come to look at: a stream of successes must not push them out.
 */
import type { AdminEvent, BrokerInfo, Counters, Snapshot, TaskState, TaskView, WorkerView } from "../../../broker/src/protocol/messages";
import { classifyEvent } from "./sequence";

/** What an update touched, so views re-render only that. `all` = re-render everything of that kind. */
export interface ModelChange {
  broker: boolean;
  counters: boolean;
  workers: "all" | Set<string>;
  /** Task ids whose view changed but stayed in the same state group. */
  tasks: "all" | Set<string>;
  /** State groups whose membership changed (a task entered, left or was evicted). */
  groups: Set<TaskState>;
}

export type ApplyEventResult =
  | { kind: "applied"; change: ModelChange }
  /** Already contained in the snapshot (or from before it): ignored. */
  | { kind: "stale" }
  /** Events were lost: the caller must take a new SNAPSHOT. The model is unchanged. */
  | { kind: "gap"; expected: number; got: number };

const MAX_TITLES = 5000;

const FINISHED: ReadonlySet<TaskState> = new Set(["succeeded", "failed", "cancelled"]);

export function isFinished(state: TaskState): boolean {
  return FINISHED.has(state);
}

export function emptyChange(): ModelChange {
  return { broker: false, counters: false, workers: new Set(), tasks: new Set(), groups: new Set() };
}

export function fullChange(): ModelChange {
  return {
    broker: true,
    counters: true,
    workers: "all",
    tasks: "all",
    groups: new Set(["queued", "running", "succeeded", "failed", "cancelled"]),
  };
}

/** Folds `b` into `a` (for debouncing several updates into one render). */
export function mergeChanges(a: ModelChange, b: ModelChange): ModelChange {
  const union = (x: "all" | Set<string>, y: "all" | Set<string>): "all" | Set<string> =>
    x === "all" || y === "all" ? "all" : new Set([...x, ...y]);
  return {
    broker: a.broker || b.broker,
    counters: a.counters || b.counters,
    workers: union(a.workers, b.workers),
    tasks: union(a.tasks, b.tasks),
    groups: new Set([...a.groups, ...b.groups]),
  };
}

export class BrokerModel {
  private info: BrokerInfo | undefined;
  /** The broker's clock when `info` was read (SNAPSHOT `time`). */
  private infoTime = -Infinity;
  private counterValues: Counters | undefined;
  private lastSeq = 0;
  private readonly workerMap = new Map<string, WorkerView>();
  private readonly taskMap = new Map<string, TaskView>();
  /** Finished task ids per state, oldest first (Map keeps insertion order; re-insert moves to the end). */
  private readonly finishedOrder = new Map<TaskState, Map<string, true>>();
  private historySize: number;
  /** Titles of requests sent from request files, by task id (kept across snapshots; bounded, oldest dropped). */
  private readonly titles = new Map<string, string>();
  /** Clear Finished: tasks that finished at or before this broker time are not shown again (a re-snapshot included). */
  private clearedBefore = -Infinity;

  constructor(historySize: number) {
    this.historySize = Math.max(1, Math.floor(historySize));
  }

  get seq(): number {
    return this.lastSeq;
  }

  get hasSnapshot(): boolean {
    return this.info !== undefined;
  }

  broker(): BrokerInfo | undefined {
    return this.info;
  }

  counters(): Counters | undefined {
    return this.counterValues;
  }

  worker(id: string): WorkerView | undefined {
    return this.workerMap.get(id);
  }

  /**
   * The name a worker is shown by everywhere (trees, tooltips, reply documents); its id only when the model does not
   * know it (any more). Tasks and INSPECT name workers by id, REPLY by name: this makes them one identity.
   */
  workerName(id: string): string {
    return this.workerMap.get(id)?.name ?? id;
  }

  task(id: string): TaskView | undefined {
    return this.taskMap.get(id);
  }

  /** Names a task after the request-file block it was sent from (the Tasks view's label for it). */
  setTitle(taskId: string, title: string): ModelChange {
    this.titles.delete(taskId);
    this.titles.set(taskId, title);
    while (this.titles.size > MAX_TITLES) {
      const oldest = this.titles.keys().next();
      if (oldest.done === true) break;
      this.titles.delete(oldest.value);
    }
    const change = emptyChange();
    if (this.taskMap.has(taskId)) (change.tasks as Set<string>).add(taskId);
    return change;
  }

  titleOf(taskId: string): string | undefined {
    return this.titles.get(taskId);
  }

  /**
   * Clear Finished: forgets the finished tasks the model holds and keeps out every task that finished by then, even
   * when a later snapshot brings it back. The broker keeps them (Delete Task removes them there).
   */
  clearFinished(): ModelChange {
    const change = emptyChange();
    for (const task of [...this.taskMap.values()]) {
      if (!isFinished(task.state)) continue;
      this.clearedBefore = Math.max(this.clearedBefore, task.finishedAt ?? task.createdAt);
      this.removeTask(task.id, change);
    }
    return change;
  }

  /** Workers sorted by name, then id (stable order across updates). */
  workers(): WorkerView[] {
    return [...this.workerMap.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /** All tasks, newest first. */
  tasks(): TaskView[] {
    return [...this.taskMap.values()].sort(newestFirst);
  }

  /** Tasks in one state, newest first. */
  tasksIn(state: TaskState): TaskView[] {
    const out: TaskView[] = [];
    for (const task of this.taskMap.values()) if (task.state === state) out.push(task);
    return out.sort(newestFirst);
  }

  /** Tasks the model holds, all states. */
  get taskCount(): number {
    return this.taskMap.size;
  }

  countIn(state: TaskState): number {
    let n = 0;
    for (const task of this.taskMap.values()) if (task.state === state) n++;
    return n;
  }

  /** Forget everything (detached, broker stopped). */
  clear(): ModelChange {
    this.info = undefined;
    this.infoTime = -Infinity;
    this.counterValues = undefined;
    this.lastSeq = 0;
    this.workerMap.clear();
    this.taskMap.clear();
    this.finishedOrder.clear();
    return fullChange();
  }

  setHistorySize(size: number): ModelChange {
    this.historySize = Math.max(1, Math.floor(size));
    const change = emptyChange();
    this.evict(change);
    return change;
  }

  /** Replaces the whole state (§Admin SNAPSHOT). */
  applySnapshot(snapshot: Snapshot): ModelChange {
    this.clear();
    this.info = snapshot.broker;
    this.infoTime = snapshot.time;
    this.counterValues = snapshot.counters;
    this.lastSeq = snapshot.seq;
    for (const worker of snapshot.workers) this.workerMap.set(worker.id, worker);
    // Oldest first so that eviction keeps the newest finished tasks.
    for (const task of [...snapshot.tasks.items].sort(newestFirst).reverse()) this.putTask(task, emptyChange());
    this.evict(emptyChange());
    return fullChange();
  }

  /**
   * Adds tasks fetched by a paged SNAPSHOT ("Load more…") without touching seq, workers or counters. Tasks the model
   * already holds are newer information (events), so they are kept.
   */
  addTasks(tasks: readonly TaskView[]): ModelChange {
    const change = emptyChange();
    for (const task of tasks) if (!this.taskMap.has(task.id)) this.putTask(task, change);
    this.evict(change);
    return change;
  }

  /**
   * Replaces only the broker's info, from a SNAPSHOT taken for it alone (what changes without an EVENT: memory,
   * connections): tasks, workers, counters and seq stay what the events made them. Nothing before the first snapshot
   * (which brings the info itself) or from before the info held (the two sockets' answers can cross), and no change
   * when the info is the same.
   */
  applyBrokerInfo(info: BrokerInfo, time: number): ModelChange {
    const change = emptyChange();
    if (this.info === undefined || time < this.infoTime) return change;
    this.infoTime = time;
    if (JSON.stringify(info) === JSON.stringify(this.info)) return change;
    this.info = info;
    change.broker = true;
    return change;
  }

  /** Applies one EVENT in seq order (§Admin EVENT). */
  applyEvent(event: AdminEvent): ApplyEventResult {
    const order = classifyEvent(this.lastSeq, event.seq);
    if (order === "stale") return { kind: "stale" };
    if (order === "gap") return { kind: "gap", expected: this.lastSeq + 1, got: event.seq };
    this.lastSeq = event.seq;
    const change = emptyChange();
    this.counterValues = event.counters;
    change.counters = true;
    const workers = change.workers as Set<string>;
    for (const worker of event.workers) {
      if (!this.workerMap.has(worker.id)) change.workers = "all";
      else workers.add(worker.id);
      this.workerMap.set(worker.id, worker);
    }
    for (const id of event.removed.workers) {
      if (this.workerMap.delete(id)) change.workers = "all";
    }
    for (const task of event.tasks) this.putTask(task, change);
    for (const id of event.removed.tasks) this.removeTask(id, change);
    this.evict(change);
    return { kind: "applied", change };
  }

  private putTask(task: TaskView, change: ModelChange): void {
    if (isFinished(task.state) && (task.finishedAt ?? task.createdAt) <= this.clearedBefore) {
      this.removeTask(task.id, change);
      return;
    }
    const previous = this.taskMap.get(task.id);
    this.taskMap.set(task.id, task);
    if (previous === undefined || previous.state !== task.state) {
      change.groups.add(task.state);
      if (previous !== undefined) change.groups.add(previous.state);
    } else if (change.tasks !== "all") {
      change.tasks.add(task.id);
    }
    if (previous !== undefined) this.finishedOrder.get(previous.state)?.delete(task.id);
    if (isFinished(task.state)) {
      let order = this.finishedOrder.get(task.state);
      if (order === undefined) this.finishedOrder.set(task.state, (order = new Map()));
      order.set(task.id, true);
    }
  }

  private removeTask(id: string, change: ModelChange): void {
    const previous = this.taskMap.get(id);
    if (previous === undefined) return;
    this.taskMap.delete(id);
    this.finishedOrder.get(previous.state)?.delete(id);
    change.groups.add(previous.state);
  }

  private evict(change: ModelChange): void {
    for (const order of this.finishedOrder.values()) {
      while (order.size > this.historySize) {
        const oldest = order.keys().next();
        if (oldest.done === true) break;
        this.removeTask(oldest.value, change);
      }
    }
  }
}

function newestFirst(a: TaskView, b: TaskView): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}
