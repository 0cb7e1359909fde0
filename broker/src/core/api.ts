/**
 * The seam between the sans-I/O broker core and its socket shell (protocol/spec.md §Scheduling rules).
 *
 * The shell decodes frames with the codec, feeds `Input`s and the current time to `BrokerCore.handle`, calls
 * `BrokerCore.tick(now)` when `nextDeadline()` is reached, and performs every `Output` in order. The core owns every
 * scheduling rule and never touches a socket, a timer, the clock or a random source.
 */
import type { ClusterEvent, ClusterRequest } from "./cluster";
import type { JournalRecord, RecoveredState } from "./journal";
import type { CoreMetrics } from "./metrics";
import type { MessageBounds } from "../protocol/limits";
import type {
  AdminReply,
  AdminRequest,
  BrokerToWorker,
  ClientMessage,
  ClientReply,
  FsyncPolicy,
  LegacyAnswer,
  Snapshot,
  SnapshotQuery,
  TaskInspection,
  WorkerMessage,
} from "../protocol/messages";

/** An opaque key for a ROUTER peer (the shell derives it from the routing id and maps it back). */
export type PeerKey = string;

export type Endpoint = "clients" | "workers" | "answers" | "admin";

/** The broker's limits and policies: what the command line sets and the core enforces (the rest of CoreConfig is derived at start). */
export type SchedulingConfig = Omit<CoreConfig, "bootNonce" | "info" | "journal" | "cluster" | "bounds">;

export interface CoreConfig {
  /** Max attempts per task (-t); null = unlimited. */
  tries: number | null;
  /** Per-attempt timeout in ms (-T); null = none. */
  timeout: number | null;
  /**
   * The longest request deadline in ms (`--deadline`), and the one given to requests that ask for none; null or
   * absent = none (§Request deadlines).
   */
  deadline?: number | null;
  /** The message bounds the shell's codec enforces (`--max-message`, `--max-frames`), told in limits replies; default DEFAULT_BOUNDS. */
  bounds?: MessageBounds;
  /** The broker's heartbeat interval in ms, announced to workers. */
  heartbeat: number;
  /** Max tasks waiting per service; null = unbounded. */
  maxQueue: number | null;
  /** Succeeded and cancelled tasks kept for monitors, per state. */
  history: number;
  /**
   * Octets of payload and reply frames each history (succeeded, cancelled, failed) keeps, each frame counted with
   * FRAME_COST; the oldest leave first beyond it, as beyond `history`; default HISTORY_BYTES.
   */
  historyBytes?: number;
  /**
   * Octets (as `historyBytes`) the tasks of services no worker serves may hold together, beside their shared
   * `maxQueue`; absent = no byte bound. Set from `--max-memory` (core/memory-budget.ts).
   */
  unservedBytes?: number;
  /** Failed tasks kept (dead letters, with their payload) until a monitor deletes or retries them; default KEEP_FAILED. */
  keepFailed?: number;
  /** How long a finished task with an idempotency key answers resends, in ms; default KEEP_RESULTS_MS; 0 = not at all. */
  keepResults?: number;
  /** At most this many finished tasks kept for their key (the oldest expire early); default MAX_KEPT. */
  maxKept?: number;
  /** Octets (as `historyBytes`) the finished tasks kept for their key may hold; absent = no byte bound. From `--max-memory`. */
  keptBytes?: number;
  /**
   * `--max-memory`, bytes: new requests are refused with queue-full while the memory the broker holds or its resident
   * memory (sampled by the shell, plus what it took in since) nears this (core/memory-budget.ts MEMORY); undefined =
   * no budget.
   */
  maxMemory?: number;
  /** Present in durable mode: the core then emits `journal` outputs (§Durability). */
  journal?: { fsync: FsyncPolicy };
  /**
   * Cluster mode (§Cluster mode): accepted requests go to a queue shared by several brokers, and this broker's workers
   * are fed from it; `broker` is this broker's id in the cluster (its reply address), `name` the cluster's.
   */
  cluster?: { name: string; broker: string };
  /** If non-empty, the only services accepted (others get unknown-service). */
  services: string[];
  /** Random per boot: prefix of generated task ids so ids never repeat across restarts. */
  bootNonce: string;
  /** Endpoints and version, reported to monitors. */
  info: { version: string; endpoints: { clients: string; workers: string; answers: string; admin: string | null } };
}

export type Input =
  | { kind: "client"; peer: PeerKey; msg: ClientMessage }
  | { kind: "worker"; peer: PeerKey; msg: WorkerMessage }
  | { kind: "answer"; msg: LegacyAnswer }
  | { kind: "admin"; peer: PeerKey; msg: AdminRequest }
  /**
   * A message the codec rejected; the core counts it and, per the spec, answers or disconnects the peer.
   * `replyPath` and `enveloped` are the codec's ProtocolError `path`/`enveloped`: with a path, a client gets REPLY
   * failed/malformed (enveloped) or the plain failure frame, a monitor ERROR{malformed}; on the workers endpoint a
   * modern worker, or an unknown peer whose message carried the worker signature (`enveloped`), gets
   * DISCONNECT{protocol-error}.
   */
  | { kind: "malformed"; endpoint: Endpoint; peer?: PeerKey; code: string; detail: string; replyPath?: readonly Uint8Array[]; enveloped?: boolean }
  /** Stop taking requests; running tasks get `grace` ms, then every pending client gets failed/shutdown. */
  | { kind: "shutdown"; grace: number }
  /** Durable mode, first input only: the journal's content; the core applies the recovery rules (§Durability). */
  | { kind: "recover"; state: RecoveredState }
  /**
   * With `maxMemory` (§Limits, load shedding), sampled by the shell: the broker's resident memory in bytes, and the
   * memory it holds — resident memory less what the allocator and libzmq keep beside it (core/memory-budget.ts).
   */
  | { kind: "memory"; rss: number; live?: number }
  /** Cluster mode: an outcome of a `cluster` output, or news from the shared queue. */
  | { kind: "cluster"; event: ClusterEvent }
  /**
   * The peer's CURVE key left its allow-list at a reload (§Security): a worker is lost (its tasks are re-queued), a
   * client's pending tasks are cancelled, a monitor's subscriptions end. The shell drops the peer's traffic from now on.
   */
  | { kind: "revoked"; endpoint: "clients" | "workers" | "admin"; peer: PeerKey };

export type LogLevel = "debug" | "info" | "warn" | "error";

export type Output =
  | { kind: "to-client"; peer: PeerKey; msg: ClientReply }
  | { kind: "to-worker"; peer: PeerKey; msg: BrokerToWorker }
  | { kind: "to-admin"; peer: PeerKey; msg: AdminReply }
  | { kind: "log"; level: LogLevel; event: string; fields: Record<string, string | number | boolean | null> }
  /**
   * Durable mode: a record the shell must commit before it performs any later output that is not a log
   * (write-ahead; §Durability, the ordering rule).
   */
  | { kind: "journal"; record: JournalRecord }
  /** Cluster mode: something for the shared queue to do (the shell's cluster driver performs it). */
  | { kind: "cluster"; request: ClusterRequest }
  /** Emitted once, after shutdown, when nothing is pending any more: the shell may close its sockets. */
  | { kind: "stopped" };

/** Implemented by `BrokerCore` (broker-core.ts), constructed as `new BrokerCore(config, startedAt)`. */
export interface BrokerCoreApi {
  handle(input: Input, now: number): Output[];
  /** Fire every deadline that is due at `now` (attempt timeouts, heartbeats, dead workers, leases, shutdown grace). */
  tick(now: number): Output[];
  /** The earliest time `tick` has work to do, or undefined. */
  nextDeadline(): number | undefined;
  snapshot(query: SnapshotQuery, now: number): Snapshot;
  inspect(task: string): TaskInspection | undefined;
  /** Replies by failure reason and attempt durations, for `--metrics` (a copy). */
  metrics(): CoreMetrics;
}

export type { ClusterEvent, ClusterRequest, JournalRecord, RecoveredState };
export type { AdminRequest, BrokerToWorker, ClientMessage, ClientReply, LegacyAnswer, WorkerMessage };
