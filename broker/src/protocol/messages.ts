/**
 * Typed messages of ztb protocol v1 (protocol/spec.md). The codec (broker/src/codec) is the only code that turns
 * frames into these and back; everything else — the broker core, the socket shells, the libraries — sees only these.
 *
 * `Frame` payloads are kept as `Uint8Array` (zeromq.js hands out Buffers, which are Uint8Arrays).
 */

export type Frame = Uint8Array;

export const SIGNATURE = {
  client: "ZTBC01",
  worker: "ZTBW01",
  admin: "ZTBA01",
} as const;

/** §Client protocol: failure reasons carried by REPLY (and shown by monitors). */
export const FAILURE_REASONS = [
  "timeout",
  "worker-failed",
  "worker-lost",
  "queue-full",
  "malformed",
  "unknown-service",
  "cancelled",
  "shutdown",
  "unavailable",
  "expired",
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** The routing path of a ROUTER peer: every frame up to and including the first empty frame (§Envelopes). */
export type RoutingPath = readonly Frame[];

// ---------------------------------------------------------------------------------------------------------------
// Clients endpoint

export interface RequestOptions {
  service?: string;
  /** Per-attempt timeout in ms. */
  timeout?: number;
  attempts?: number;
  /** Client correlation id, echoed in the REPLY. */
  id?: string;
  /**
   * Idempotency key (§Idempotent requests): while a task with this key and service is live or kept, a request with the
   * same key and service creates no task and gets that task's reply.
   */
  key?: string;
  /** Since 1.1: the most ms from acceptance to the reply, queue wait included (§Request deadlines). */
  deadline?: number;
  /** Since 1.1: no task; the REPLY carries the broker's limits (§Limits discovery). */
  limits?: true;
}

/** Since 1.1: the broker's limits for requests, in the REPLY to a REQUEST with `limits: true` (§Limits discovery). */
export interface BrokerLimits {
  /** -T in ms; null = none. */
  timeout: number | null;
  /** -t; null = unlimited. */
  attempts: number | null;
  /** --deadline in ms; null = none. */
  deadline: number | null;
  /** --max-queue; null = unbounded. */
  maxQueue: number | null;
  /** --keep-results in ms. */
  keepResults: number;
  /** --max-message octets. */
  maxMessage: number;
  /** --max-frames. */
  maxFrames: number;
}

export interface ReplyDetail {
  status: "succeeded" | "failed";
  reason?: FailureReason;
  message?: string;
  id?: string;
  task?: string;
  attempts: number;
  worker?: string;
  elapsed: number;
  /** Codec error code when reason is "malformed". */
  error?: string;
  /** True when the request was answered by an earlier task with the same idempotency key. */
  duplicate?: boolean;
  /** True on a copy sent again after a durable broker's restart (§Durability rule 6). */
  resent?: boolean;
  /** Only in the REPLY to a REQUEST with `limits: true`. */
  limits?: BrokerLimits;
}

/**
 * Client -> broker. `peer-gone` and `peer-hello` are libzmq's disconnect and connect notifications (ZMQ_DISCONNECT_MSG,
 * ZMQ_ROUTER_NOTIFY), not a peer's message.
 */
export type ClientMessage =
  | { type: "plain-request"; path: RoutingPath; payload: Frame[] }
  | { type: "request"; path: RoutingPath; options: RequestOptions; payload: Frame[] }
  | { type: "cancel"; path: RoutingPath; id: string }
  | { type: "peer-gone" }
  | { type: "peer-hello" };

/** Broker -> client. */
export type ClientReply =
  | { type: "plain-reply"; path: RoutingPath; payload: Frame[] } // failure: payload = [empty frame]
  | { type: "reply"; path: RoutingPath; detail: ReplyDetail; payload: Frame[] };

// ---------------------------------------------------------------------------------------------------------------
// Workers endpoint

export interface ReadyOptions {
  name: string;
  services?: string[];
  capacity: number;
  /** The worker's heartbeat interval in ms. */
  heartbeat: number;
}

export interface TaskHeader {
  service: string;
  attempt: number;
  /** Maximum attempts, null = unlimited. */
  attempts: number | null;
  /** This attempt's timeout in ms, null = none. */
  timeout: number | null;
}

export const DISCONNECT_REASONS = ["shutdown", "protocol-error", "unknown-worker", "draining", "bye"] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

export const CANCEL_REASONS = ["timeout", "answered", "cancelled"] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

export interface DisconnectDetail {
  reason: DisconnectReason;
  message?: string;
  /** Since 1.1, worker-sent with `bye`: the worker leaves once it holds nothing (§Leaving without losing work). */
  finish?: true;
}

/** Worker -> broker on the workers endpoint. `peer-gone` is libzmq's disconnect notification, not a peer's message. */
export type WorkerMessage =
  | { type: "ready"; options: ReadyOptions }
  | { type: "result"; task: Frame; payload: Frame[] }
  /** `returned` (since 1.1): a leaving worker gives the task back without counting the attempt. */
  | { type: "fail"; task: Frame; message: string; retryable: boolean; returned?: true }
  | { type: "heartbeat"; interval: number }
  | { type: "disconnect"; detail?: DisconnectDetail }
  | { type: "extend"; task: Frame; timeout: number }
  | { type: "legacy-ready"; path: RoutingPath; frame: Frame }
  | { type: "peer-gone" };

/** Broker -> worker. Modern commands carry no path (a DEALER peer's path is just the delimiter). */
export type BrokerToWorker =
  | { type: "task"; task: Frame; header: TaskHeader; payload: Frame[] }
  | { type: "heartbeat"; interval: number }
  | { type: "disconnect"; detail?: DisconnectDetail }
  | { type: "cancel"; task: Frame; reason: CancelReason }
  | { type: "legacy-task"; path: RoutingPath; task: Frame; payload: Frame[] };

/** Legacy worker -> broker on the answers endpoint (PULL). */
export interface LegacyAnswer {
  type: "legacy-answer";
  task: Frame;
  payload: Frame[];
}

// ---------------------------------------------------------------------------------------------------------------
// Admin endpoint

export const TASK_STATES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** A frame shown to a person: UTF-8 text when printable, hex otherwise. */
export type FrameView = { text: string } | { hex: string };

export interface TaskView {
  id: string;
  service: string;
  state: TaskState;
  attempt: number;
  attempts: number | null;
  worker: string | null;
  origin: "plain" | "enveloped" | "admin" | "cluster";
  createdAt: number;
  dispatchedAt?: number;
  finishedAt?: number;
  reason?: FailureReason;
  message?: string;
  size: number;
  preview: FrameView;
}

export interface WorkerView {
  id: string;
  name: string;
  kind: "modern" | "legacy";
  state: "idle" | "busy" | "draining";
  services: string[];
  capacity: number;
  held: number;
  tasks: string[];
  done: number;
  failed: number;
  lastSeen: number;
  heartbeat: number | null;
  /** While quarantined after repeated attempt timeouts (rule 11): when it becomes eligible again. */
  quarantinedUntil?: number;
  /** Since 1.1: an admin retirement (DRAIN retire) waits for the worker's tasks. */
  retiring?: true;
  /** Since 1.1: the worker announced it leaves (DISCONNECT bye with finish). */
  leaving?: true;
}

export interface Counters {
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  retried: number;
  workers: number;
  requests: number;
  replies: number;
  late: number;
  rejected: number;
  /** Requests answered by an existing task with the same idempotency key (no task created). */
  deduplicated: number;
  malformed: { client: number; worker: number; answers: number; admin: number };
}

export interface BrokerInfo {
  version: string;
  endpoints: { clients: string; workers: string; answers: string; admin: string | null };
  tries: number | null;
  timeout: number | null;
  heartbeat: number;
  maxQueue: number | null;
  startedAt: number;
  state: "running" | "draining" | "stopping";
  /** True when tasks are kept in a journal (`--data`) and survive a crash (§Durability). */
  durable?: boolean;
  /** With `durable`: when commits reach the disk (`--fsync`). */
  fsync?: FsyncPolicy;
  /** How long finished replies stay for resends with the same key, in ms (`--keep-results`). */
  keepResults?: number;
  /** Since 1.1: `--deadline` in ms, the longest request deadline; null = none. */
  deadline?: number | null;
  /**
   * With `--max-memory`: the budget, the last samples of the resident memory and of the memory the broker holds
   * (`live`, absent from brokers that do not tell it), and whether new requests are being shed.
   */
  memory?: { budget: number; rss: number; live?: number; shedding: boolean };
  /** Since 1.1, from this broker's sockets: connected peers and connections still in the ZeroMQ handshake, per endpoint. */
  connections?: ConnectionCounts;
  /** Since 1.1, in cluster mode (§Cluster mode): the cluster, this broker's id in it, and the shared queue's depth per service. */
  cluster?: ClusterInfo;
}

export interface ClusterInfo {
  name: string;
  broker: string;
  /** False while NATS is unreachable: new requests are refused with `unavailable`. */
  connected: boolean;
  /** Cluster-wide, a moment old: tasks waiting in the shared queue and tasks held by some broker, per service. */
  services: Record<string, { waiting: number; running: number }>;
}

/** SNAPSHOT `broker.connections` (§Limits, file descriptors). */
export type ConnectionCounts = Partial<Record<"clients" | "workers" | "answers" | "admin", { peers: number; handshakes: number }>>;

/** §Durability: `always` fsyncs every group commit, `batch` leaves it to the OS (and SQLite's checkpoints), `off` never. */
export const FSYNC_POLICIES = ["always", "batch", "off"] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

export interface SnapshotQuery {
  tasks?: { state?: TaskState; offset?: number; limit?: number };
}

/** A service's queue and its workers (SNAPSHOT `services`, since 1.1). */
export interface ServiceView {
  name: string;
  /** Tasks waiting. */
  queued: number;
  /** Registered workers serving it. */
  workers: number;
}

export interface Snapshot {
  seq: number;
  time: number;
  broker: BrokerInfo;
  counters: Counters;
  workers: WorkerView[];
  /** Every service with a waiting task or a worker (since 1.1). */
  services?: ServiceView[];
  tasks: { total: number; offset: number; items: TaskView[] };
}

export interface TaskInspection {
  task: TaskView;
  request: FrameView[];
  reply?: FrameView[];
  truncated?: boolean;
}

export interface AdminEvent {
  seq: number;
  time: number;
  counters: Counters;
  tasks: TaskView[];
  workers: WorkerView[];
  removed: { tasks: string[]; workers: string[] };
}

export const ADMIN_ERROR_CODES = ["unknown-task", "unknown-worker", "bad-state", "malformed"] as const;
export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number];

/** Monitor -> broker. `peer-gone` is libzmq's disconnect notification, not a peer's message. */
export type AdminRequest =
  | { type: "snapshot"; path: RoutingPath; query: SnapshotQuery }
  | { type: "subscribe"; path: RoutingPath; lease?: number }
  | { type: "inspect"; path: RoutingPath; task: string }
  | { type: "cancel"; path: RoutingPath; task: string }
  | { type: "retry"; path: RoutingPath; task: string }
  | { type: "drain"; path: RoutingPath; worker: string; drain?: boolean; retire?: true }
  | { type: "delete"; path: RoutingPath; target: DeleteTarget }
  | { type: "peer-gone" };

/** Admin DELETE: one finished task, or every failed task (of one service). */
export type DeleteTarget = { task: string } | { state: "failed"; service?: string };

/** Broker -> monitor. */
export type AdminReply =
  | { type: "snapshot"; path: RoutingPath; snapshot: Snapshot }
  | { type: "ack"; path: RoutingPath; body: Record<string, unknown> }
  | { type: "error"; path: RoutingPath; code: AdminErrorCode; message: string }
  | { type: "task"; path: RoutingPath; inspection: TaskInspection }
  | { type: "event"; path: RoutingPath; event: AdminEvent };
