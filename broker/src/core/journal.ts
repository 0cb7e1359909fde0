/**
 * What the core asks its shell to make durable, and what a shell gives back at start (protocol/spec.md §Durability).
 *
 * The core never calls a store: in durable mode it emits `{kind: "journal", record}` outputs beside its sends, and the
 * shell commits every record of one event-loop turn in one transaction before it performs any send of that turn
 * (write-ahead). At start the shell reads the store back into a `RecoveredState` and hands it to the core as the
 * `recover` input, where the recovery rules live. Records name tasks by their creation counter (`seq`), which with
 * the store's id prefix is the task id.
 */
import type { Counters, FailureReason, Frame, TaskState } from "../protocol/messages";
import type { PeerKey } from "./api";

/** Who gets a task's reply: a client's peer key, routing path and correlation (ClientRef as stored). */
export interface ClientRecord {
  readonly peer: PeerKey;
  readonly path: readonly Frame[];
  readonly enveloped: boolean;
  readonly correlation?: string;
}

/** Everything the journal holds about one task: enough to rebuild it, and its reply once finished. */
export interface TaskRecord {
  readonly seq: number;
  readonly service: string;
  readonly origin: "plain" | "enveloped" | "admin" | "cluster";
  readonly key?: string;
  readonly client?: ClientRecord;
  readonly waiters?: readonly ClientRecord[];
  readonly payload: readonly Frame[];
  readonly maxAttempts: number | null;
  readonly timeout: number | null;
  readonly createdAt: number;
  /** `queued` or `running` while live (a running task's latest attempt is counted in `attempts`), else its end. */
  readonly state: TaskState;
  readonly attempts: number;
  readonly finishedAt?: number;
  readonly reason?: FailureReason;
  readonly message?: string;
  readonly worker?: string;
  readonly reply?: readonly Frame[];
  /** Until when a resend with the key is answered from this task (ms since the epoch). */
  readonly keptUntil?: number;
}

/** The outcome of a task, written when it finishes. */
export type FinishRecord = Required<Pick<TaskRecord, "seq" | "state" | "attempts" | "finishedAt">> &
  Pick<TaskRecord, "reason" | "message" | "worker" | "reply" | "keptUntil">;

export type JournalRecord =
  /** A task was created (client request or admin RETRY): written before the task can be dispatched or answered. */
  | { readonly op: "accept"; readonly task: TaskRecord }
  /** An attempt started: written before its TASK is sent, so a crash never loses the count (`-t` still bounds it). */
  | { readonly op: "dispatch"; readonly seq: number; readonly attempts: number }
  /** The requests attached to a task by their idempotency key. */
  | { readonly op: "waiters"; readonly seq: number; readonly waiters: readonly ClientRecord[] }
  /** The task finished: written before its reply is sent. */
  | { readonly op: "finish"; readonly finish: FinishRecord }
  /** The task left the history and its key is no longer kept, or a monitor deleted it. */
  | { readonly op: "forget"; readonly seq: number }
  /** The counters after the records before it (the shell keeps the last one of a commit). */
  | { readonly op: "counters"; readonly counters: Counters };

/** What a shell read back from its store at start. */
export interface RecoveredState {
  /** Every task in the journal, in any order. */
  readonly tasks: readonly TaskRecord[];
  /** The counters of the last commit; undefined for a new store. */
  readonly counters: Counters | undefined;
}
