/**
 * The settings ztb gives its task stream and its per-service consumers, and the comparison with what exists on the
 * server. Every broker of a cluster must run with the same settings: a difference means another tool (or a broker
 * started with other `-t`/lease/replicas) made the stream, and ztb refuses rather than silently adopting or changing
 * it (issue 11, "a stream created by another tool with different settings").
 */
import { nanos, millis } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import type { ClusterNames } from "./names";

export interface WorkQueueSettings {
  /** Copies of each task kept by JetStream (Raft): 1 for one server, 3 to survive the loss of one node of three. */
  replicas: number;
  /** Msg-Id de-duplication window in ms: a task published twice with one id inside it is stored once. */
  duplicateWindow: number;
  /** Largest task message (headers + encoded frames) the stream accepts, octets. */
  maxMessageSize: number;
  /**
   * JetStream AckWait in ms: how long a fetched task stays with the broker that fetched it without an in-progress
   * ack. It is the broker's lease, not the attempt timeout: a live broker renews it (`working()`), so a task comes
   * back to the queue one lease after its broker died.
   */
  lease: number;
  /** JetStream MaxDeliver: the broker's `-t`; null = unlimited. */
  maxDeliver: number | null;
  /** Pull requests a service's consumer holds at once, all brokers together (JetStream MaxWaiting). */
  maxWaiting: number;
}

export const DEFAULT_SETTINGS: WorkQueueSettings = {
  replicas: 1,
  duplicateWindow: 2 * 60_000,
  maxMessageSize: 1024 * 1024,
  lease: 30_000,
  maxDeliver: null,
  maxWaiting: 512,
};

/** The stream settings ztb states (the server fills in the rest). */
export type StreamWant = Pick<
  StreamConfig,
  "name" | "description" | "subjects" | "retention" | "storage" | "num_replicas" | "duplicate_window" | "max_msg_size" | "max_age" | "max_msgs" | "max_bytes"
>;

/** The consumer settings ztb states. */
export type ConsumerWant = Pick<
  ConsumerConfig,
  "durable_name" | "description" | "filter_subject" | "ack_policy" | "deliver_policy" | "ack_wait" | "max_deliver" | "max_waiting" | "max_ack_pending"
>;

export function desiredStream(names: ClusterNames, settings: WorkQueueSettings): StreamWant {
  return {
    name: names.stream,
    description: `ztb cluster ${names.cluster}: tasks waiting or running, one subject per service`,
    subjects: [names.streamSubjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: settings.replicas,
    duplicate_window: nanos(settings.duplicateWindow),
    max_msg_size: settings.maxMessageSize,
    // No age, count or size limit: a task leaves the stream only when acked or terminated, never because it waited.
    max_age: 0,
    max_msgs: -1,
    max_bytes: -1,
  };
}

function different(out: string[], what: string, have: unknown, want: unknown): void {
  if (JSON.stringify(have) !== JSON.stringify(want)) out.push(`${what} ${JSON.stringify(have)}, want ${JSON.stringify(want)}`);
}

/** What in `existing` differs from what ztb needs; empty when the stream is usable as is. */
export function streamDifferences(existing: StreamInfo, want: StreamWant): string[] {
  const have = existing.config;
  const out: string[] = [];
  different(out, "subjects", [...(have.subjects ?? [])].sort(), [...want.subjects].sort());
  different(out, "retention", have.retention, want.retention);
  different(out, "storage", have.storage, want.storage);
  different(out, "replicas", have.num_replicas, want.num_replicas);
  different(out, "duplicate_window (ms)", millis(have.duplicate_window ?? 0), millis(want.duplicate_window));
  different(out, "max_msg_size", have.max_msg_size, want.max_msg_size);
  different(out, "max_age (ms)", millis(have.max_age ?? 0), 0);
  if ((have.max_msgs ?? -1) !== -1) out.push(`max_msgs ${have.max_msgs}, want unlimited`);
  if ((have.max_bytes ?? -1) !== -1) out.push(`max_bytes ${have.max_bytes}, want unlimited`);
  if (have.sealed === true) out.push("sealed");
  if (have.deny_delete === true) out.push("deny_delete (ztb deletes exhausted tasks)");
  if (have.mirror !== undefined) out.push("is a mirror");
  return out;
}

export function desiredConsumer(names: ClusterNames, service: string, settings: WorkQueueSettings): ConsumerWant {
  return {
    durable_name: names.consumer(service),
    description: `ztb cluster ${names.cluster}: tasks of one service`,
    filter_subject: names.taskSubject(service),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(settings.lease),
    max_deliver: settings.maxDeliver ?? -1,
    max_waiting: settings.maxWaiting,
    // In-flight tasks are bounded by the workers' capacity, which the brokers enforce; the server default (1000)
    // would silently cap a large pool of workers.
    max_ack_pending: -1,
  };
}

export function consumerDifferences(existing: ConsumerInfo, want: ConsumerWant): string[] {
  const have = existing.config;
  const out: string[] = [];
  different(out, "filter_subject", have.filter_subject, want.filter_subject);
  different(out, "ack_policy", have.ack_policy, want.ack_policy);
  different(out, "ack_wait (ms)", millis(have.ack_wait ?? 0), millis(want.ack_wait ?? 0));
  different(out, "max_deliver", have.max_deliver ?? -1, want.max_deliver);
  different(out, "deliver_policy", have.deliver_policy, want.deliver_policy);
  if (have.deliver_subject !== undefined) out.push("is a push consumer");
  return out;
}
