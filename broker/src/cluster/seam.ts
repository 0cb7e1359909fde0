/**
 * The seam a sans-I/O core would use for cluster mode, as data: what the core asks (`ClusterRequest`, one per
 * Output kind it would emit) and what comes back (`ClusterEvent`, one per Input kind it would handle). The core would
 * hold only lease ids and ClusterTask values, never a NATS object; `ClusterDriver` (cluster-driver.ts) performs each
 * request with one adapter call. The names say "cluster-" so they can join the core's own unions without clashing.
 *
 * Nothing here is imported by the core today (it must not import this folder); the integration copies these shapes
 * into the core's api.ts, or the core defines them and this file imports them instead.
 */
import type { ClusterTask } from "./task-record";

/** One delivery of one task to this broker: `<stream seq>.<delivery count>`. */
export type LeaseId = string;

export type ClusterRequest =
  /** Store an accepted request as a task (Msg-Id from its key, or generated). */
  | { kind: "cluster-publish"; task: ClusterTask }
  /** `count` of this broker's workers of `service` have a free slot: pull at most that many tasks. */
  | { kind: "cluster-fetch"; service: string; count: number }
  /** The attempt succeeded and the client was answered (or the answer kept): the task leaves the stream. */
  | { kind: "cluster-ack"; lease: LeaseId }
  /** Retry: retryable FAIL, attempt timeout, worker lost, or no eligible worker for a fetched task. */
  | { kind: "cluster-nak"; lease: LeaseId; delay: number }
  /** Never again: non-retryable FAIL, CANCEL, attempts exhausted (the broker answered the client itself). */
  | { kind: "cluster-term"; lease: LeaseId }
  /** Renew the lease now (the driver also renews every held lease on its own timer). */
  | { kind: "cluster-working"; lease: LeaseId }
  /** Keep a reply for a client's idempotency key. */
  | { kind: "cluster-keep-result"; key: string; value: Uint8Array }
  /** A request with a key arrived: is there a kept reply? */
  | { kind: "cluster-lookup-result"; key: string }
  /** Send a reply to the broker holding the client (`Ztb-Origin`). */
  | { kind: "cluster-reply"; origin: string; reply: Uint8Array }
  /** Monitoring: the cluster-wide depth of a service. */
  | { kind: "cluster-depth"; service: string };

export interface FetchedTask {
  lease: LeaseId;
  /** 1 on the first delivery; the attempt number. */
  deliveryCount: number;
  task: ClusterTask;
}

export type ClusterEvent =
  | { kind: "cluster-published"; task: string; seq: number; duplicate: boolean }
  | { kind: "cluster-publish-failed"; task: string; error: string }
  /** Answer to a cluster-fetch: `tasks.length <= asked`; fewer when the queue had fewer before the pull expired. */
  | { kind: "cluster-fetched"; service: string; asked: number; tasks: FetchedTask[] }
  | { kind: "cluster-fetch-failed"; service: string; asked: number; error: string }
  /** An ack the server did not confirm: the task may run again after its lease (its kept result answers it). */
  | { kind: "cluster-ack-failed"; lease: LeaseId; error: string }
  | { kind: "cluster-result"; key: string; value: Uint8Array | null }
  | { kind: "cluster-result-failed"; key: string; error: string }
  | { kind: "cluster-reply-received"; reply: Uint8Array }
  /** A task whose last delivery's holder vanished: this broker took it out of the stream and must answer its client. */
  | { kind: "cluster-exhausted"; task: ClusterTask; deliveries: number }
  | { kind: "cluster-depth"; service: string; waiting: number; running: number }
  /** NATS connection lost / back (connection-status.ts): refuse new requests while lost, resume when back. */
  | { kind: "cluster-disconnected"; server: string }
  | { kind: "cluster-reconnected"; server: string }
  | { kind: "cluster-closed"; error: string | null }
  /** Something went wrong that no request waits for (a foreign message, an advisory that could not be handled). */
  | { kind: "cluster-warning"; message: string };
