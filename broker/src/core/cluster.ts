/**
 * Cluster mode's seam (protocol/spec.md §Cluster mode): what the core asks of the shared queue (`ClusterRequest`, in
 * a `{kind: "cluster"}` output) and what comes back (`ClusterEvent`, in a `{kind: "cluster"}` input). The core holds
 * lease ids and plain values, never a NATS object; broker/src/cluster/cluster-driver.ts performs each request with one
 * adapter call. Every rule of cluster mode is in broker-core.ts; this file is types only.
 */
import type { Frame, ReplyDetail } from "../protocol/messages";

/** One delivery of one task to this broker: `<stream seq>.<delivery count>`. */
export type LeaseId = string;

/** An accepted request as it travels through the shared queue. */
export interface ClusterTask {
  /** The task id the origin broker gave it: the id its client sees. */
  readonly task: string;
  readonly service: string;
  readonly key: string | null;
  /** Effective per-attempt timeout, ms; null = none. */
  readonly timeout: number | null;
  /** Effective maximum attempts; null = unlimited. */
  readonly attempts: number | null;
  /** The broker holding the client's connection: replies go to it. */
  readonly origin: string;
  /** The origin's own reference to the waiting request; null when nobody waits (admin RETRY). */
  readonly client: string | null;
  /** When the origin accepted it, ms since the epoch. */
  readonly accepted: number;
  readonly payload: readonly Frame[];
}

/** The outcome of a task, sent by the broker that ran it to the broker that holds its client (and kept by key). */
export interface ClusterReply {
  /** The origin's task id. */
  readonly task: string;
  readonly service: string;
  /** The REPLY detail without the members the origin fills in (`id`, `task`, `elapsed`). */
  readonly detail: Pick<ReplyDetail, "status" | "reason" | "message" | "attempts" | "worker">;
  readonly payload: readonly Frame[];
}

export interface FetchedTask {
  lease: LeaseId;
  /** 1 on the first delivery: in cluster mode attempts are counted per delivery. */
  deliveryCount: number;
  task: ClusterTask;
}

export type ClusterRequest =
  /** Store an accepted request (Msg-Id from its service and key, or generated). */
  | { kind: "cluster-publish"; task: ClusterTask }
  /** `count` slots of this broker's workers of `service` are free and not yet asked for: pull at most that many. */
  | { kind: "cluster-fetch"; service: string; count: number }
  /**
   * An attempt ended for good on this broker: keep the reply (when the task has a key), then ack (succeeded) or
   * terminate (failed, cancelled), in that order, so a task acked is a task whose reply is kept.
   */
  | { kind: "cluster-settle"; lease: LeaseId; ack: boolean; keep: { key: string; reply: ClusterReply } | undefined }
  /** Keep a reply for its key (a task the advisory of exhausted attempts took out of the queue: no lease). */
  | { kind: "cluster-keep"; key: string; reply: ClusterReply }
  /** Forget a stale lease without settling it (the task was delivered here again and runs under the new one). */
  | { kind: "cluster-drop"; lease: LeaseId }
  /** Give the task back for another delivery (retryable end, lost worker, no worker left, shutdown). */
  | { kind: "cluster-nak"; lease: LeaseId; delay: number }
  /** Send a reply to the broker holding the client. */
  | { kind: "cluster-reply"; origin: string; reply: ClusterReply }
  /** A keyed request whose task is already in the queue (a resend): answer it from the kept reply, when there is one. */
  | { kind: "cluster-await-result"; service: string; key: string }
  | { kind: "cluster-stop-awaiting"; service: string; key: string }
  /** A client cancelled: take the task out of the queue (`seq`, if it still waits) and tell the broker running it. */
  | { kind: "cluster-cancel"; task: string; seq: number | undefined }
  /** Monitoring and `--max-queue`: the cluster-wide depth of these services. */
  | { kind: "cluster-depth"; services: string[] };

export type ClusterEvent =
  | { kind: "cluster-published"; task: string; seq: number; duplicate: boolean }
  | { kind: "cluster-publish-failed"; task: string; error: string }
  /** Tasks of one cluster-fetch, as they arrive: each fills one slot asked for. */
  | { kind: "cluster-fetched"; service: string; tasks: FetchedTask[] }
  /** The pull of one cluster-fetch ended: `unfilled` of the slots it asked for got no task. */
  | { kind: "cluster-fetch-ended"; service: string; unfilled: number }
  | { kind: "cluster-fetch-failed"; service: string; unfilled: number; error: string }
  | { kind: "cluster-reply-received"; reply: ClusterReply }
  /** A kept reply for an awaited key appeared (or was there already). */
  | { kind: "cluster-result"; service: string; key: string; reply: ClusterReply }
  /** Another broker's client cancelled task `task` of broker `origin`. */
  | { kind: "cluster-cancelled"; origin: string; task: string }
  /** A task whose last delivery's holder vanished: this broker took it out of the queue and answers its client. */
  | { kind: "cluster-exhausted"; task: ClusterTask; deliveries: number }
  | { kind: "cluster-depth"; depth: Record<string, { waiting: number; running: number }> }
  /** NATS lost / back: new requests are refused meanwhile (reason `unavailable`), workers are kept. */
  | { kind: "cluster-disconnected"; server: string }
  | { kind: "cluster-reconnected"; server: string }
  /** Something went wrong that no request waits for: logged (rate-limited). */
  | { kind: "cluster-warning"; message: string };
