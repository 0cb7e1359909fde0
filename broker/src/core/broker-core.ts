/**
 * THE RULES. This is the one file that holds the broker's scheduling and protocol rules (protocol/spec.md
 * §Scheduling rules 1–8, §Client protocol, §Worker protocol, §Admin); the other files in core/ are data structures
 * and views. It is sans-I/O: inputs and the time come in, outputs go out, and `nextDeadline()` says when to call
 * `tick` — no sockets, clocks, timers or randomness.
 *
 * Cost per operation does not grow with the number of queued or running tasks: tasks wait in per-service FIFOs,
 * workers with free capacity in per-service LRU sets, deadlines in one heap, and everything is found by id in Maps.
 *
 * Decisions where the brief is silent (also listed in the helper's report):
 * - Counters: `requests` counts accepted tasks (client requests and admin RETRYs), so queued + running + succeeded +
 *   failed + cancelled == requests; `rejected` counts requests refused without a task (queue-full, unknown-service,
 *   shutdown); `replies` counts every client reply; a foreign-task message counts in `malformed.worker`;
 *   a FAIL/EXTEND for an attempt that already ended (or an unknown task) counts as `late`.
 * - A READY from a peer already registered starts a new worker: the old record is lost (its tasks re-queued).
 * - A legacy request-for-work from a peer registered as modern is a protocol error (DISCONNECT, forgotten).
 * - A malformed message on the workers endpoint gets DISCONNECT{protocol-error} when the peer is a modern worker or
 *   the message carried the worker signature (`enveloped`); otherwise it is only counted and logged.
 * - Legacy workers serve the "default" service with capacity 1.
 * - A task whose attempt ends while the broker is draining fails at once: with the attempt's reason when no attempts
 *   remain, else with "shutdown".
 * - EVENTs carry at most `EVENT_TASKS` task views; the rest stay marked and go out in the next EVENT.
 * - A client's correlation ids are scoped to its peer and routing path; a newer pending request with the same id
 *   takes the id over.
 * - Idempotency keys: a request attached to a live task by its key shares that task's fate; a CANCEL from any request
 *   attached to it cancels the task for all of them.
 * - Recovery (§Durability): live tasks are queued again in creation order; one that was running when the broker
 *   stopped counts that attempt, fails with worker-lost if it was the last, and accepts an answer from any worker.
 */
import type {
  AdminReply,
  AdminRequest,
  BrokerToWorker,
  CancelReason,
  ClientMessage,
  ClientReply,
  FailureReason,
  Frame,
  LegacyAnswer,
  ReadyOptions,
  ReplyDetail,
  RoutingPath,
  Snapshot,
  SnapshotQuery,
  TaskInspection,
  TaskState,
  WorkerMessage,
} from "../protocol/messages";
import { inspection, taskView, workerView } from "./admin-views";
import type { BrokerCoreApi, CoreConfig, Endpoint, Input, LogLevel, Output, PeerKey } from "./api";
import type { ClusterEvent, ClusterReply, ClusterRequest, ClusterTask, FetchedTask } from "./cluster";
import { copyCounters, malformedKey, newCounters } from "./counters";
import { Deque, LruSet } from "./queues";
import type { ClientRecord, FinishRecord, JournalRecord, RecoveredState, TaskRecord } from "./journal";
import { type CoreMetrics, copyMetrics, newMetrics, observeAttempt } from "./metrics";
import { MEMORY } from "./memory-budget";
import { HISTORY_BYTES, KEEP_FAILED, KEEP_RESULTS_MS, MAX_KEPT } from "./retention";
import { type Attempt, type ClientRef, type Task, TaskTable, asciiFrame, framesCost, keptCost, payloadCost } from "./task-table";
import { TimerHeap } from "./timer-heap";
import { expiredMessage, limitsOf } from "./request-limits";
import { LEASE, LIVENESS, PAGE, inHeartbeatRange } from "../protocol/limits";
import { type Worker, WorkerTable } from "./worker-table";

/** §Admin: EVENTs are coalesced over this many ms. */
export const EVENT_INTERVAL = 100;
/** Task views per EVENT (decision: bounds one EVENT; the rest follow in the next). */
export const EVENT_TASKS = 1000;
export { LEASE, LIVENESS, PAGE };
/** Rule 11: attempt timeouts in a row that quarantine a worker, and its first and longest quarantine in ms. */
export const QUARANTINE = { after: 3, first: 1000, max: 60_000 } as const;
/** §Durability: replies of tasks that finished this long before a crash are sent again to enveloped clients. */
export const REDELIVERY_WINDOW = 10_000;
/** Rate limit of the log lines about bad messages (per endpoint and kind, §What the receiver does). */
export const LOG_INTERVAL = 1000;
/**
 * Cluster mode (§Cluster mode): the shared queue's depth is asked for this often, ms (for monitors and `--max-queue`);
 * a failed pull is tried again after `retry` ms.
 */
export const CLUSTER = { depthEvery: 2000, retry: 1000, depthServices: 64, returned: 10_000 } as const;

const DEFAULT_SERVICE = "default";
const EMPTY_FRAME = new Uint8Array(0);

type CoreTimer =
  | Attempt
  | { kind: "heartbeat"; worker: Worker }
  | { kind: "liveness"; worker: Worker }
  | { kind: "lease"; monitor: Monitor }
  | { kind: "events" }
  | { kind: "grace" }
  | { kind: "kept" }
  | { kind: "quarantine"; worker: Worker }
  | { kind: "unseen" }
  | { kind: "expiry"; task: Task }
  | { kind: "cluster-depth" }
  | { kind: "cluster-retry" };

/** One service: its FIFO of waiting tasks and its LRU of workers with a free slot (rules 1–2). */
interface Service {
  readonly name: string;
  /** May hold stale entries (tasks that left "queued" other than by dispatch); `queued` is the true count. */
  readonly queue: Deque<Task>;
  queued: number;
  /** What the `queued` tasks' payloads cost (payloadCost), for the unserved bound. */
  queuedBytes: number;
  readonly idle: LruSet<Worker>;
  /** Registered workers serving it; a service with no workers and no queue is forgotten. */
  workers: number;
}

interface Monitor {
  readonly key: string;
  readonly peer: PeerKey;
  path: RoutingPath;
  expires: number;
  timer: ReturnType<TimerHeap<CoreTimer>["add"]> | undefined;
}

type Phase = "running" | "draining" | "stopped";

/** What a REQUEST may ask of its task (each capped by the broker's own limit). */
interface RequestLimits {
  timeout?: number;
  attempts?: number;
  key?: string;
  deadline?: number;
}
type AttemptEnd = "timeout" | "worker-failed" | "worker-lost";

/** A stable key for a routing path (peer plus the frames before the delimiter). */
function pathKey(peer: PeerKey, path: RoutingPath): string {
  let key = peer;
  for (const frame of path) key += "/" + hex(frame);
  return key;
}

function hex(frame: Frame): string {
  let hex = "";
  for (const byte of frame) hex += (byte < 16 ? "0" : "") + byte.toString(16);
  return hex;
}

/**
 * A legacy worker's WorkerView name (§Worker protocol, legacy, rule 1). The peer key is the routing id in latin1, and
 * libzmq's generated ids are binary (0x00 then a counter), which would put control characters into names shown to
 * monitors and clients (REPLY `worker`): those are shown in hex; an id a peer chose in printable ASCII is kept.
 */
function legacyName(peer: PeerKey): string {
  const id = peer.slice(0, 8);
  if (/^[\x21-\x7e]+$/.test(id)) return `legacy-${id}`;
  let octets = "";
  for (let i = 0; i < id.length; i++) octets += id.charCodeAt(i).toString(16).padStart(2, "0");
  return `legacy-${octets}`;
}

/** A pending enveloped request's key in byCorrelation: its client's path and its correlation id (client CANCEL). */
function correlationKey(peer: PeerKey, path: RoutingPath, id: string): string {
  return pathKey(peer, path) + "#" + id;
}

/** The key index's key: one key per service (the service's length first, so no pair of names can collide). */
function keyOf(service: string, key: string): string {
  return `${service.length}:${service}:${key}`;
}

function clientRecord(client: ClientRef): ClientRecord {
  const record = { peer: client.peer, path: client.path, enveloped: client.enveloped };
  return client.correlation === undefined ? record : { ...record, correlation: client.correlation };
}

/**
 * §Durability, recovery rule 5: a routing id libzmq made up (its first octet is zero; a client cannot choose one that
 * is) names a connection, not a client, and the next broker process may give the same id to another peer. Such a
 * client's requests still run after a restart, but their replies go to nobody: it resends with its key.
 */
function madeUpId(peer: PeerKey): boolean {
  return peer.length === 0 || peer.charCodeAt(0) === 0;
}

function clientRef(record: ClientRecord): ClientRef {
  return { peer: record.peer, path: record.path, enveloped: record.enveloped, correlation: record.correlation };
}

/** REPLY detail with its members in the order of the spec's table (§JSON members, REPLY detail). */
function inSpecOrder(detail: ReplyDetail, id: string | undefined): ReplyDetail {
  // Built member by member: JSON keeps insertion order, and only present members are written.
  const ordered: Partial<ReplyDetail> = { status: detail.status };
  if (detail.reason !== undefined) ordered.reason = detail.reason;
  if (detail.message !== undefined) ordered.message = detail.message;
  if (id !== undefined) ordered.id = id;
  if (detail.task !== undefined) ordered.task = detail.task;
  ordered.attempts = detail.attempts;
  if (detail.worker !== undefined) ordered.worker = detail.worker;
  ordered.elapsed = detail.elapsed;
  if (detail.error !== undefined) ordered.error = detail.error;
  if (detail.duplicate !== undefined) ordered.duplicate = detail.duplicate;
  if (detail.resent !== undefined) ordered.resent = detail.resent;
  if (detail.limits !== undefined) ordered.limits = detail.limits;
  return ordered as ReplyDetail;
}

/** min(requested, limit) where either may be absent (rule 3, §Client protocol REQUEST clamping). */
/** REPLY `message` of a cluster request failed by a shutdown: it may still run on another broker. */
const CLUSTER_SHUTDOWN_MESSAGE =
  "the broker is shutting down; the request stays in the cluster's queue: resend it with its key to another broker for its reply";

/** A plain copy of the depth map (views must not share the core's objects). */
function structuredCopy(depth: Record<string, { waiting: number; running: number }>): Record<string, { waiting: number; running: number }> {
  const copy: Record<string, { waiting: number; running: number }> = {};
  for (const [name, value] of Object.entries(depth)) copy[name] = { waiting: value.waiting, running: value.running };
  return copy;
}

function clamp(requested: number | undefined, limit: number | null): number | null {
  if (limit === null) return requested ?? null;
  return requested === undefined ? limit : Math.min(requested, limit);
}

export class BrokerCore implements BrokerCoreApi {
  private readonly tasks: TaskTable;
  private readonly workers = new WorkerTable();
  private readonly services = new Map<string, Service>();
  private readonly allowed: ReadonlySet<string>;
  private readonly timers = new TimerHeap<CoreTimer>();
  private readonly counters = newCounters();
  private readonly metricsData = newMetrics();
  /** Pending enveloped requests by client path + correlation id (client CANCEL). */
  private readonly byCorrelation = new Map<string, Task>();
  private readonly monitors = new Map<string, Monitor>();
  private readonly lastLog = new Map<string, { at: number; suppressed: number }>();
  private readonly dirtyTasks = new Set<Task>();
  private readonly dirtyWorkers = new Set<Worker>();
  private readonly removedTasks: string[] = [];
  private readonly removedWorkers: string[] = [];
  private lastEventCounters = "";
  private lastEventAt = Number.NEGATIVE_INFINITY;
  private eventTimer: ReturnType<TimerHeap<CoreTimer>["add"]> | undefined;
  private seq = 0;
  private phase: Phase = "running";
  private graceTimer: ReturnType<TimerHeap<CoreTimer>["add"]> | undefined;
  private now: number;
  private out: Output[] = [];
  /** Live and kept tasks by service and idempotency key (§Idempotent requests). */
  private readonly keys = new Map<string, Task>();
  /** Tasks waiting in services that no registered worker serves (rule 9: bounded together by --max-queue). */
  private unserved = 0;
  /** Their payload octets, as `Service.queuedBytes`. */
  private unservedBytes = 0;
  /** Finished tasks kept for their key, in order of expiry (one duration for all: finishing order). */
  private readonly kept = new Deque<Task>();
  private keptTimer: ReturnType<TimerHeap<CoreTimer>["add"]> | undefined;
  /** Tasks with keptUntil > 0 (the deque may also hold stale entries). */
  private keptCount = 0;
  /** What the kept tasks' frames cost (keptCost), for `config.keptBytes`. */
  private keptBytes = 0;
  private readonly keepFailed: number;
  private readonly keepResults: number;
  private readonly maxKept: number;
  /** Durable mode: emit journal records. */
  private readonly durable: boolean;
  private journaled = false;
  private recovered = false;
  /**
   * Clients of recovered tasks not seen since the restart (§Durability): their replies wait in `parked` until the
   * client reconnects (ZMQ_ROUTER_NOTIFY's connect notice, or any message), for at most `keepResults`.
   */
  private readonly unseen = new Set<PeerKey>();
  /**
   * Load shedding (§Limits): the last sample of the resident memory and of the memory the broker holds (undefined when
   * the shell does not tell it), and the octets taken in since (tasks and replies, with their bookkeeping).
   */
  private rss = 0;
  private live: number | undefined;
  private intake = 0;
  private shedding = false;
  /** While shedding: since when the estimate has been below the line (undefined: not below it now). */
  private calmSince: number | undefined;
  private readonly parked = new Map<PeerKey, Output[]>();
  /** Cluster mode: this broker's id in the cluster (undefined: not in a cluster). */
  private readonly clusterId: string | undefined;
  /** Cluster mode: the NATS server lost, while it is (new requests are refused meanwhile). */
  private clusterLost: string | null = null;
  /** Cluster mode: per service, free slots asked for in pulls not yet answered. */
  private readonly asked = new Map<string, number>();
  /** Cluster mode: leased tasks by `<origin broker>\n<origin task id>` (for a cancel from the origin). */
  private readonly leasedByRef = new Map<string, Task>();
  private clusterDepth: Record<string, { waiting: number; running: number }> = {};
  /**
   * Cluster mode: tasks this broker gave back, by `<origin>\n<id>`, with the workers that held them here: if the task
   * comes back to this broker, rule 4 still prefers another worker and rule 8 still accepts a late answer from them.
   * Bounded (the oldest entries go first): a task that comes back after that is simply new here.
   */
  private readonly returned = new Map<string, { holders: string[]; avoid: Worker | undefined }>();
  /** Cluster mode: requests of this broker's clients not answered yet (not listed among its tasks). */
  private readonly requests = new Set<Task>();
  /** Services this broker's clients asked for since the last depth poll (their depth is polled too). */
  private readonly askedFor = new Set<string>();
  private retryTimer: ReturnType<TimerHeap<CoreTimer>["add"]> | undefined;

  constructor(
    private readonly config: CoreConfig,
    private readonly startedAt: number,
  ) {
    this.tasks = new TaskTable(config.bootNonce);
    this.allowed = new Set(config.services);
    this.now = startedAt;
    this.keepFailed = config.keepFailed ?? KEEP_FAILED;
    this.keepResults = config.keepResults ?? KEEP_RESULTS_MS;
    this.maxKept = config.maxKept ?? MAX_KEPT;
    this.durable = config.journal !== undefined;
    this.clusterId = config.cluster?.broker;
    if (this.clusterId !== undefined) this.timers.add(startedAt, { kind: "cluster-depth" });
  }

  // -------------------------------------------------------------------------------------------------------------
  // BrokerCoreApi

  handle(input: Input, now: number): Output[] {
    this.now = Math.max(this.now, now);
    switch (input.kind) {
      case "client":
        this.onClient(input.peer, input.msg);
        break;
      case "worker":
        this.onWorker(input.peer, input.msg);
        break;
      case "answer":
        this.onAnswer(input.msg);
        break;
      case "admin":
        this.onAdmin(input.peer, input.msg);
        break;
      case "malformed":
        this.onMalformed(input);
        break;
      case "shutdown":
        this.onShutdown(input.grace);
        break;
      case "recover":
        this.recover(input.state);
        break;
      case "memory":
        this.onMemory(input.rss, input.live);
        break;
      case "cluster":
        this.onCluster(input.event);
        break;
      case "revoked":
        this.onRevoked(input.endpoint, input.peer);
        break;
      default:
        return input satisfies never;
    }
    return this.finishStep();
  }

  tick(now: number): Output[] {
    this.now = Math.max(this.now, now);
    for (let timer = this.timers.popDue(this.now); timer !== undefined; timer = this.timers.popDue(this.now)) {
      this.onTimer(timer.data);
    }
    return this.finishStep();
  }

  nextDeadline(): number | undefined {
    return this.timers.peekTime();
  }

  snapshot(query: SnapshotQuery, now: number): Snapshot {
    const state = query.tasks?.state;
    const offset = Math.max(0, Math.floor(query.tasks?.offset ?? 0));
    const limit = Math.min(PAGE.max, Math.max(1, Math.floor(query.tasks?.limit ?? PAGE.default)));
    return {
      seq: this.seq,
      time: now,
      broker: {
        version: this.config.info.version,
        endpoints: { ...this.config.info.endpoints },
        tries: this.config.tries,
        timeout: this.config.timeout,
        heartbeat: this.config.heartbeat,
        maxQueue: this.config.maxQueue,
        startedAt: this.startedAt,
        state: this.phase === "running" ? "running" : this.phase === "draining" ? "draining" : "stopping",
        durable: this.durable,
        ...(this.config.journal === undefined ? {} : { fsync: this.config.journal.fsync }),
        keepResults: this.keepResults,
        deadline: this.config.deadline ?? null,
        ...(this.config.maxMemory === undefined
          ? {}
          : { memory: { budget: this.config.maxMemory, rss: this.rss, ...(this.live === undefined ? {} : { live: this.live }), shedding: this.shedding } }),
        ...(this.config.cluster === undefined
          ? {}
          : {
              cluster: {
                name: this.config.cluster.name,
                broker: this.config.cluster.broker,
                connected: this.clusterLost === null,
                services: structuredCopy(this.clusterDepth),
              },
            }),
      },
      counters: copyCounters(this.counters),
      workers: [...this.workers.all()].map(workerView),
      services: [...this.services.values()].map((svc) => ({ name: svc.name, queued: svc.queued, workers: svc.workers })),
      tasks: { total: this.tasks.count(state), offset, items: this.tasks.page(state, offset, limit).map(taskView) },
    };
  }

  metrics(): CoreMetrics {
    return copyMetrics(this.metricsData);
  }

  inspect(task: string): TaskInspection | undefined {
    const found = this.visibleTask(task);
    return found === undefined ? undefined : inspection(found);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Clients (§Client protocol)

  private onClient(peer: PeerKey, msg: ClientMessage): void {
    if (this.unseen.size > 0 && msg.type !== "peer-gone") this.seenClient(peer);
    switch (msg.type) {
      case "plain-request":
        this.onRequest({ peer, path: msg.path, enveloped: false, correlation: undefined }, DEFAULT_SERVICE, {}, msg.payload);
        return;
      case "request":
        if (msg.options.limits === true) {
          this.reply({ peer, path: msg.path, enveloped: true, correlation: msg.options.id }, { status: "succeeded", attempts: 0, elapsed: 0, limits: limitsOf(this.config, this.keepResults) }, []);
          return;
        }
        this.onRequest(
          { peer, path: msg.path, enveloped: true, correlation: msg.options.id },
          msg.options.service ?? DEFAULT_SERVICE,
          msg.options,
          msg.payload,
        );
        return;
      case "cancel": {
        const task = this.byCorrelation.get(correlationKey(peer, msg.path, msg.id));
        if (task === undefined) {
          this.log("debug", "cancel-unknown", { peer, id: msg.id });
          return;
        }
        this.cancelTask(task);
        return;
      }
      case "peer-gone":
        // Its pending tasks still run to the end; their replies are dropped by the ROUTER.
        return;
      case "peer-hello":
        return;
      default:
        return msg satisfies never;
    }
  }

  /** A client of a recovered task is back: what was parked for it goes out now. */
  private seenClient(peer: PeerKey): void {
    if (!this.unseen.delete(peer)) return;
    const parked = this.parked.get(peer);
    if (parked === undefined) return;
    this.parked.delete(peer);
    this.out.push(...parked);
  }

  private onRequest(
    client: ClientRef,
    service: string,
    options: RequestLimits,
    payload: Frame[],
  ): void {
    if (this.phase !== "running") return this.reject(client, "shutdown", "the broker is shutting down");
    if (this.allowed.size > 0 && !this.allowed.has(service)) {
      return this.reject(client, "unknown-service", `unknown service "${service}"`);
    }
    const existing = options.key === undefined ? undefined : this.keys.get(keyOf(service, options.key));
    if (existing !== undefined) return this.attach(existing, client);
    if (this.overBudget()) {
      return this.reject(client, "queue-full", this.sheddingMessage(this.config.maxMemory ?? 0));
    }
    if (this.clusterId !== undefined) return this.publish(client, service, options, payload, this.clusterId);
    const svc = this.service(service);
    if (this.config.maxQueue !== null && svc.queued >= this.config.maxQueue) {
      return this.reject(client, "queue-full", `service "${service}" has ${svc.queued} tasks waiting`);
    }
    const unservedFull = svc.workers === 0 ? this.unservedFull(payload) : undefined;
    if (unservedFull !== undefined) {
      this.maybeForget(svc);
      return this.reject(client, "queue-full", `no worker serves "${service}", and ${unservedFull}`);
    }
    const task = this.accepted(client, service, options, payload);
    this.counters.queued++;
    this.journal({ op: "accept", task: this.taskRecord(task) });
    this.enqueue(task, svc, "back");
  }

  /**
   * Rule 9: tasks for services nobody serves share one --max-queue, so inventing service names queues no more than
   * that; with --max-memory they share a byte bound too, as shedding frees nothing they hold while no worker comes.
   * Why one more such task does not fit, or undefined when it does.
   */
  private unservedFull(payload: readonly Frame[]): string | undefined {
    if (this.config.maxQueue !== null && this.unserved >= this.config.maxQueue) {
      return `${this.unserved} tasks already wait for services nobody serves`;
    }
    const bound = this.config.unservedBytes;
    if (bound !== undefined && this.unservedBytes + framesCost(payload) > bound) {
      return `tasks for services nobody serves already hold ${this.unservedBytes} octets`;
    }
    return undefined;
  }

  /**
   * A client's request becomes a task: its limits clamped by the broker's, counted, findable by key and correlation
   * id, and ended by its deadline (§Request deadlines) — on one broker and, in a cluster, on the broker holding the client.
   */
  private accepted(client: ClientRef, service: string, options: RequestLimits, payload: Frame[]): Task {
    const task = this.tasks.create({
      service,
      origin: client.enveloped ? "enveloped" : "plain",
      client,
      payload,
      maxAttempts: clamp(options.attempts, this.config.tries),
      timeout: clamp(options.timeout, this.config.timeout),
      createdAt: this.now,
      key: options.key,
    });
    this.counters.requests++;
    this.took(payloadCost(task) + MEMORY.taskCost);
    if (task.key !== undefined) this.keys.set(keyOf(service, task.key), task);
    this.correlate(client, task);
    const deadline = clamp(options.deadline, this.config.deadline ?? null);
    if (deadline !== null) task.expiry = this.timers.add(this.now + deadline, { kind: "expiry", task });
    return task;
  }

  private correlate(client: ClientRef, task: Task): void {
    if (client.correlation !== undefined) {
      this.byCorrelation.set(correlationKey(client.peer, client.path, client.correlation), task);
    }
  }

  /**
   * §Idempotent requests: a request whose key names a live task waits for that task's reply; one whose key names a
   * kept finished task is answered from it at once. No task is created either way.
   */
  private attach(task: Task, client: ClientRef): void {
    this.counters.deduplicated++;
    if (task.state === "queued" || task.state === "running") {
      task.waiters ??= [];
      task.waiters.push(client);
      this.correlate(client, task);
      this.journal({ op: "waiters", seq: task.seq, waiters: task.waiters.map(clientRecord) });
      this.log("debug", "request-attached", { task: task.id, key: task.key ?? null });
      return;
    }
    this.reply(client, { ...this.outcome(task), duplicate: true }, task.reply ?? []);
  }

  /** Octets taken in since the last memory sample (§Limits, load shedding). */
  private took(octets: number): void {
    this.intake += octets;
  }

  /**
   * What shedding compares with its two lines (§Limits, load shedding): the memory the broker holds and its resident
   * memory, each as sampled plus twice what it took in since.
   */
  private memoryEstimate(): { held: number; resident: number } {
    const since = this.intake * MEMORY.heldFactor;
    return { held: (this.live ?? this.rss) + since, resident: this.rss + since };
  }

  private overBudget(): boolean {
    const budget = this.config.maxMemory;
    if (budget === undefined) return false;
    const { held, resident } = this.memoryEstimate();
    const was = this.shedding;
    if (held >= MEMORY.shedAt * budget || resident >= MEMORY.residentAt * budget) {
      this.shedding = true;
      this.calmSince = undefined;
    } else if (this.shedding) {
      this.calmSince ??= this.now;
      if (this.now - this.calmSince >= MEMORY.calmFor) this.shedding = false;
    }
    if (this.shedding !== was) {
      this.log("warn", this.shedding ? "shedding-load" : "load-shedding-ended", { rss: this.rss, held: Math.round(held), budget });
    }
    return this.shedding;
  }

  /** The queue-full message of a request refused by shedding: where the broker stands against its budget. */
  private sheddingMessage(budget: number): string {
    const { held, resident } = this.memoryEstimate();
    const percent = (octets: number): number => Math.round((100 * octets) / budget);
    return `the broker holds ${percent(held)} % of its memory budget (--max-memory), resident ${percent(resident)} %: new requests are refused until it holds under ${100 * MEMORY.shedAt} % and is resident under ${100 * MEMORY.residentAt} % for ${MEMORY.calmFor / 1000} s`;
  }

  private onMemory(rss: number, live: number | undefined): void {
    this.rss = rss;
    this.live = live;
    this.intake = 0;
    this.overBudget();
  }

  /** A request refused before it became a task (rule 7: it still gets its one reply). */
  private reject(client: ClientRef, reason: FailureReason, message: string): void {
    this.counters.rejected++;
    this.reply(client, { status: "failed", reason, message, attempts: 0, elapsed: 0 }, []);
  }

  private reply(client: ClientRef, detail: ReplyDetail, payload: Frame[]): void {
    this.counters.replies++;
    if (detail.status === "failed" && detail.reason !== undefined && detail.resent !== true) this.metricsData.failedReplies[detail.reason]++;
    let msg: ClientReply;
    if (client.enveloped) {
      msg = { type: "reply", path: client.path, detail: inSpecOrder(detail, client.correlation), payload };
    } else {
      msg = { type: "plain-reply", path: client.path, payload: detail.status === "succeeded" ? payload : [EMPTY_FRAME] };
    }
    const output: Output = { kind: "to-client", peer: client.peer, msg };
    if (this.unseen.has(client.peer)) {
      const parked = this.parked.get(client.peer);
      if (parked === undefined) this.parked.set(client.peer, [output]);
      else parked.push(output);
      return;
    }
    this.out.push(output);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Queues and dispatch (rules 1–3)

  private service(name: string): Service {
    let svc = this.services.get(name);
    if (svc === undefined) {
      svc = { name, queue: new Deque(), queued: 0, queuedBytes: 0, idle: new LruSet(), workers: 0 };
      this.services.set(name, svc);
    }
    return svc;
  }

  /** Forgets a service nobody serves and nothing waits for, so arbitrary names cannot pile up. */
  private maybeForget(svc: Service): void {
    if (svc.workers === 0 && svc.queued === 0) this.services.delete(svc.name);
  }

  private enqueue(task: Task, svc: Service, end: "front" | "back"): void {
    if (end === "front") svc.queue.pushFront(task);
    else svc.queue.pushBack(task);
    const cost = payloadCost(task);
    svc.queued++;
    svc.queuedBytes += cost;
    if (svc.workers === 0) {
      this.unserved++;
      this.unservedBytes += cost;
    }
    this.markTask(task);
    this.pump(svc);
  }

  /** The oldest task still waiting in `svc`, dropping stale entries on the way. */
  private head(svc: Service): Task | undefined {
    for (let task = svc.queue.peekFront(); task !== undefined; task = svc.queue.peekFront()) {
      if (task.state === "queued") return task;
      svc.queue.popFront();
    }
    return undefined;
  }

  /** Rules 1–2: give waiting tasks to free workers until one side runs out. */
  private pump(svc: Service): void {
    if (this.phase !== "running") return;
    while (svc.idle.size > 0) {
      const task = this.head(svc);
      if (task === undefined) break;
      const first = svc.idle.first();
      if (first === undefined) break;
      const worker = first === task.avoid ? (svc.idle.second() ?? first) : first;
      svc.queue.popFront();
      this.dispatch(task, worker);
    }
    this.askCluster(svc);
    this.maybeForget(svc);
  }

  /** A worker gained a free slot: fill it from its services, oldest waiting task first. */
  private offer(worker: Worker): void {
    if (worker.retiring && worker.held === 0 && !worker.gone) return this.retire(worker);
    while (this.phase === "running" && this.isFree(worker)) {
      let best: Service | undefined;
      let bestSeq = Number.POSITIVE_INFINITY;
      for (const name of worker.services) {
        const svc = this.services.get(name);
        const task = svc === undefined ? undefined : this.head(svc);
        if (svc !== undefined && task !== undefined && task.seq < bestSeq) {
          best = svc;
          bestSeq = task.seq;
        }
      }
      if (best === undefined) break;
      this.pump(best);
    }
    if (this.clusterId !== undefined) {
      for (const name of worker.services) {
        const svc = this.services.get(name);
        if (svc !== undefined) this.askCluster(svc);
      }
    }
  }

  private isFree(worker: Worker): boolean {
    return (
      !worker.gone &&
      !worker.draining &&
      !worker.leaving &&
      worker.quarantinedUntil === undefined &&
      worker.held < worker.capacity &&
      this.phase === "running"
    );
  }

  /** Keeps `worker` in the LRU of each of its services exactly while it has a free slot. */
  private updateIdle(worker: Worker, used: boolean): void {
    const free = this.isFree(worker);
    for (const name of worker.services) {
      const svc = this.services.get(name);
      if (svc === undefined) continue;
      if (!free) svc.idle.delete(worker);
      else if (used) svc.idle.touch(worker);
      else svc.idle.add(worker);
    }
  }

  private dispatch(task: Task, worker: Worker): void {
    task.attempts++;
    this.setState(task, "running");
    const deadline = task.timeout === null ? null : this.now + task.timeout;
    const attempt: Attempt = { kind: "attempt", task, worker, number: task.attempts, startedAt: this.now, deadline, timer: undefined };
    if (deadline !== null) attempt.timer = this.timers.add(deadline, attempt);
    task.current = attempt;
    if (task.holders === undefined) task.holders = [worker.id];
    else if (!task.holders.includes(worker.id)) task.holders.push(worker.id);
    task.lastWorker = worker;
    if (worker.kind === "legacy") task.lastLegacy = worker;
    task.avoid = undefined;
    task.dispatchedAt = this.now;
    this.journal({ op: "dispatch", seq: task.seq, attempts: task.attempts });
    worker.attempts.set(task.id, attempt);
    worker.held++;
    this.updateIdle(worker, true);
    this.markWorker(worker);
    if (worker.kind === "modern") {
      this.toWorker(worker, {
        type: "task",
        task: asciiFrame(task.id),
        header: { service: task.service, attempt: attempt.number, attempts: task.maxAttempts, timeout: task.timeout },
        payload: task.payload,
      });
    } else {
      const path = worker.legacyPath ?? [EMPTY_FRAME];
      worker.legacyPath = undefined;
      this.toWorker(worker, { type: "legacy-task", path, task: asciiFrame(task.id), payload: task.payload });
    }
  }

  private toWorker(worker: Worker, msg: BrokerToWorker): void {
    worker.lastSent = this.now;
    this.out.push({ kind: "to-worker", peer: worker.peer, msg });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Task states and endings (rules 4–7)

  private setState(task: Task, state: TaskState): void {
    const from = task.state;
    if (from === state) return;
    if (task.cluster?.role === "origin") {
      task.state = state;
      return;
    }
    if (from === "queued") {
      this.counters.queued--;
      const svc = this.services.get(task.service);
      if (svc !== undefined) {
        const cost = payloadCost(task);
        svc.queued--;
        svc.queuedBytes -= cost;
        if (svc.workers === 0) {
          this.unserved--;
          this.unservedBytes -= cost;
        }
        // Stale entries are dropped at the head; compact when they dominate a long queue.
        if (svc.queue.length > 2 * svc.queued + 64) svc.queue.retain((t) => t.state === "queued" && t !== task);
      }
    } else if (from === "running") this.counters.running--;
    if (state === "queued") this.counters.queued++;
    else if (state === "running") this.counters.running++;
    this.tasks.setState(task, state);
    this.markTask(task);
  }

  /** Ends an attempt; a modern worker's slot is freed with it (a legacy slot is freed when the worker asks again). */
  private closeAttempt(attempt: Attempt): void {
    const { task, worker } = attempt;
    observeAttempt(this.metricsData, this.now - attempt.startedAt);
    this.timers.remove(attempt.timer);
    if (task.current === attempt) task.current = undefined;
    worker.attempts.delete(task.id);
    if (worker.kind === "modern" && !worker.gone) {
      worker.held--;
      this.updateIdle(worker, false);
    }
    this.markWorker(worker);
  }

  /** Rule 4: re-queue at the front (avoiding this worker) while attempts remain, else fail with this reason. */
  private attemptEnded(task: Task, reason: AttemptEnd, worker: Worker, message?: string): void {
    const exhausted = task.maxAttempts !== null && task.attempts >= task.maxAttempts;
    if (task.cluster?.role === "leased" && !exhausted) return this.giveBack(task, reason, worker);
    if (exhausted) return this.finish(task, "failed", reason, message);
    if (this.phase !== "running" && !this.durable) return this.finish(task, "failed", "shutdown", "the broker is shutting down");
    this.counters.retried++;
    task.avoid = worker;
    this.setState(task, "queued");
    this.log("info", "task-retried", { task: task.id, attempt: task.attempts, reason, worker: worker.id });
    this.enqueue(task, this.service(task.service), "front");
  }

  /** Rule 7: the one terminal transition; sends the client (and every request attached by key) its reply. */
  private finish(task: Task, state: "succeeded" | "failed" | "cancelled", reason?: FailureReason, message?: string): void {
    if (task.current !== undefined) this.closeAttempt(task.current);
    this.timers.remove(task.expiry);
    task.expiry = undefined;
    this.setState(task, state);
    // A leased task is another request's attempt: the broker holding its client counts how it ended.
    if (task.cluster?.role !== "leased") this.countFinished(state);
    task.finishedAt = this.now;
    task.reason = reason;
    task.message = message;
    if (task.lastWorker !== undefined) task.workerName = task.lastWorker.name;
    if (state !== "succeeded") {
      this.logLimited("tasks", `task-${state}`, { task: task.id, reason: reason ?? null }, state === "failed" ? "warn" : "info");
    }
    // An expired task is not kept: the deadline measured the client's patience, not the work (§Request deadlines).
    if (task.key !== undefined) {
      if (reason === "expired") this.dropKey(task);
      else this.keep(task);
    }
    const finish: FinishRecord = { seq: task.seq, state, attempts: task.attempts, finishedAt: this.now };
    this.journal({ op: "finish", finish: this.withOutcome(finish, task) });
    const detail = this.outcome(task);
    if (task.cluster?.role === "origin" && task.cluster.awaiting) detail.duplicate = true;
    for (const client of this.clientsOf(task)) {
      if (client.correlation !== undefined) {
        const key = correlationKey(client.peer, client.path, client.correlation);
        if (this.byCorrelation.get(key) === task) this.byCorrelation.delete(key);
      }
      // §Idempotent requests rule 1: a request attached by its key is answered as a duplicate.
      this.reply(client, client === task.client ? { ...detail } : { ...detail, duplicate: true }, task.reply ?? []);
    }
    task.waiters = undefined;
    if (task.cluster !== undefined) this.clusterFinished(task);
    this.trim(state);
  }

  private countFinished(state: "succeeded" | "failed" | "cancelled"): void {
    if (state === "succeeded") this.counters.succeeded++;
    else if (state === "failed") this.counters.failed++;
    else this.counters.cancelled++;
  }

  private clientsOf(task: Task): ClientRef[] {
    const clients = task.waiters === undefined ? [] : [...task.waiters];
    if (task.client !== undefined) clients.unshift(task.client);
    return clients;
  }

  /** A finished task's REPLY detail (without the correlation id, which is each client's own). */
  private outcome(task: Task): ReplyDetail {
    const detail: ReplyDetail = {
      status: task.state === "succeeded" ? "succeeded" : "failed",
      task: task.id,
      attempts: task.attempts,
      elapsed: (task.finishedAt ?? this.now) - task.createdAt,
    };
    if (task.reason !== undefined) detail.reason = task.reason;
    if (task.message !== undefined) detail.message = task.message;
    if (task.workerName !== undefined) detail.worker = task.workerName;
    return detail;
  }

  private withOutcome(finish: FinishRecord, task: Task): FinishRecord {
    const record: { -readonly [K in keyof FinishRecord]: FinishRecord[K] } = finish;
    if (task.reason !== undefined) record.reason = task.reason;
    if (task.message !== undefined) record.message = task.message;
    if (task.workerName !== undefined) record.worker = task.workerName;
    if (task.reply !== undefined) record.reply = task.reply;
    if (task.keptUntil > 0) record.keptUntil = task.keptUntil;
    return record;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Retention: histories per state, kept results, dead letters (§Limits, §Idempotent requests)

  /**
   * Trims the history of `state` to its bounds: failed tasks to `keepFailed`, the others to `history`, and each to
   * `historyBytes` octets (§Limits, history).
   */
  private trim(state: "succeeded" | "failed" | "cancelled"): void {
    const bound = state === "failed" ? this.keepFailed : this.config.history;
    const bytes = this.config.historyBytes ?? HISTORY_BYTES;
    while (this.tasks.count(state) > bound || this.tasks.bytes(state) > bytes) {
      const oldest = this.tasks.oldest(state);
      if (oldest === undefined) break;
      this.markRemovedTask(oldest);
      if (oldest.keptUntil > 0) this.tasks.detach(oldest);
      else this.forgetTask(oldest);
    }
  }

  private forgetTask(task: Task): void {
    this.unkeep(task);
    this.dropKey(task);
    this.tasks.forget(task);
    this.journal({ op: "forget", seq: task.seq });
  }

  /** A finished task with a key answers resends until `keepResults` from now (or is forgotten by its key now). */
  private keep(task: Task): void {
    if (this.keepResults <= 0) return this.dropKey(task);
    task.keptUntil = this.now + this.keepResults;
    this.keptCount++;
    this.keptBytes += keptCost(task);
    this.kept.pushBack(task);
    this.expireKept(this.now);
    this.scheduleKept();
  }

  /** Stops keeping the oldest kept tasks: every one due by `now`, and more while over the count or octet bound. */
  private expireKept(now: number): void {
    const over = (): boolean => this.keptCount > this.maxKept || this.keptBytes > (this.config.keptBytes ?? Infinity);
    for (let task = this.kept.peekFront(); task !== undefined; task = this.kept.peekFront()) {
      if (task.keptUntil !== 0 && task.keptUntil > now && !over()) break;
      this.kept.popFront();
      if (task.keptUntil === 0) continue; // deleted since it was kept: a stale entry
      this.unkeep(task);
      if (!task.listed) this.forgetTask(task);
    }
  }

  private unkeep(task: Task): void {
    if (task.keptUntil === 0) return;
    task.keptUntil = 0;
    this.keptCount--;
    this.keptBytes -= keptCost(task);
    this.dropKey(task);
  }

  /** The key index forgets `task` (if its key still names it: a newer task may hold the key now). */
  private dropKey(task: Task): void {
    if (task.key === undefined) return;
    const key = keyOf(task.service, task.key);
    if (this.keys.get(key) === task) this.keys.delete(key);
  }

  private scheduleKept(): void {
    this.timers.remove(this.keptTimer);
    this.keptTimer = undefined;
    let head = this.kept.peekFront();
    while (head !== undefined && head.keptUntil === 0) {
      this.kept.popFront();
      head = this.kept.peekFront();
    }
    if (head !== undefined) this.keptTimer = this.timers.add(head.keptUntil, { kind: "kept" });
  }

  /** Client CANCEL and admin CANCEL (and a revoked client key): queued or running tasks end as cancelled. */
  private cancelTask(task: Task, message = "cancelled"): boolean {
    if (task.state === "queued") {
      // The request may be in the shared queue or running on another broker: it leaves both.
      if (task.cluster?.role === "origin") this.clusterOut({ kind: "cluster-cancel", task: task.id, seq: task.cluster.seq });
      this.finish(task, "cancelled", "cancelled", message);
      return true;
    }
    const attempt = task.current;
    if (task.state !== "running" || attempt === undefined) return false;
    this.closeAttempt(attempt);
    this.sendCancel(attempt.worker, task, "cancelled");
    this.finish(task, "cancelled", "cancelled", message);
    this.offer(attempt.worker);
    return true;
  }

  private sendCancel(worker: Worker, task: Task, reason: CancelReason): void {
    if (worker.kind === "modern" && !worker.gone) this.toWorker(worker, { type: "cancel", task: asciiFrame(task.id), reason });
  }

  /** Rule 6: the first answer for a task whose client has not been answered wins. */
  private accept(task: Task, payload: Frame[], worker: Worker | undefined): void {
    const other = task.current;
    if (other !== undefined && other.worker !== worker) {
      this.closeAttempt(other);
      this.sendCancel(other.worker, task, "answered");
    }
    if (worker !== undefined) {
      task.lastWorker = worker;
      worker.done++;
      this.markWorker(worker);
    }
    task.reply = payload;
    this.took(framesCost(payload));
    this.finish(task, "succeeded");
    if (other !== undefined && other.worker !== worker) this.offer(other.worker);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Workers (§Worker protocol)

  private onWorker(peer: PeerKey, msg: WorkerMessage): void {
    const worker = this.workers.ofPeer(peer);
    switch (msg.type) {
      case "peer-gone":
        if (worker !== undefined) this.lose(worker, "peer-gone");
        return;
      case "legacy-ready":
        return this.onLegacyReady(peer, worker, msg.path);
      case "ready":
        return this.onReady(peer, worker, msg.options);
      default:
        break;
    }
    if (worker === undefined && msg.type === "result") this.orphanAnswer(msg.task, msg.payload);
    if (worker === undefined || worker.kind !== "modern") {
      if (worker !== undefined) {
        // A legacy peer speaking the modern protocol is not the worker we knew.
        this.lose(worker, "protocol-error");
      }
      if (msg.type === "disconnect") return;
      this.logLimited("workers", "unknown-worker", { peer, command: msg.type });
      this.out.push({ kind: "to-worker", peer, msg: { type: "disconnect", detail: { reason: "unknown-worker" } } });
      return;
    }
    this.seen(worker);
    switch (msg.type) {
      case "heartbeat":
        if (inHeartbeatRange(msg.interval)) worker.heartbeat = msg.interval;
        return;
      case "result":
        return this.onResult(worker, msg.task, msg.payload);
      case "fail":
        return this.onFail(worker, msg.task, msg.message, msg.retryable, msg.returned === true);
      case "extend":
        return this.onExtend(worker, msg.task, msg.timeout);
      case "disconnect":
        if (msg.detail?.finish === true) return this.onLeaving(worker);
        if (msg.detail?.reason === "protocol-error") this.log("warn", "worker-protocol-error", { worker: worker.id, message: msg.detail.message ?? null });
        if (worker.leaving) this.crossedLeaving(worker);
        return this.lose(worker, msg.detail?.reason ?? "bye");
      default:
        return msg satisfies never;
    }
  }

  private seen(worker: Worker): void {
    worker.lastSeen = this.now;
    this.markWorker(worker);
  }

  private onReady(peer: PeerKey, existing: Worker | undefined, options: ReadyOptions): void {
    if (existing !== undefined) this.lose(existing, "ready-again");
    if (this.phase !== "running") {
      this.out.push({ kind: "to-worker", peer, msg: { type: "disconnect", detail: { reason: "shutdown" } } });
      return;
    }
    const services = [...new Set(options.services ?? [DEFAULT_SERVICE])];
    const worker = this.register({
      peer,
      name: options.name,
      kind: "modern",
      services,
      capacity: options.capacity,
      heartbeat: options.heartbeat,
      lastSeen: this.now,
    });
    this.toWorker(worker, { type: "heartbeat", interval: this.config.heartbeat });
    worker.heartbeatTimer = this.timers.add(this.now + this.config.heartbeat, { kind: "heartbeat", worker });
    worker.livenessTimer = this.timers.add(this.now + LIVENESS * options.heartbeat, { kind: "liveness", worker });
    this.updateIdle(worker, false);
    this.offer(worker);
  }

  /** A legacy REQ worker asking for work: one slot, freed by asking again (§Worker protocol, legacy). */
  private onLegacyReady(peer: PeerKey, existing: Worker | undefined, path: RoutingPath): void {
    if (existing !== undefined && existing.kind === "modern") {
      this.counters.malformed.worker++;
      this.logLimited("workers", "legacy-from-modern", { peer, worker: existing.id });
      this.toWorker(existing, { type: "disconnect", detail: { reason: "protocol-error", message: "legacy request from a modern worker" } });
      this.lose(existing, "protocol-error");
      return;
    }
    if (this.phase !== "running") return;
    const worker =
      existing ??
      this.register({
        peer,
        name: legacyName(peer),
        kind: "legacy",
        services: [DEFAULT_SERVICE],
        capacity: 1,
        heartbeat: null,
        lastSeen: this.now,
      });
    this.seen(worker);
    worker.legacyPath = path;
    worker.held = 0;
    this.updateIdle(worker, false);
    this.offer(worker);
  }

  private register(init: Parameters<WorkerTable["add"]>[0]): Worker {
    const worker = this.workers.add(init);
    this.counters.workers++;
    for (const name of worker.services) {
      const svc = this.service(name);
      if (svc.workers++ === 0) {
        this.unserved -= svc.queued;
        this.unservedBytes -= svc.queuedBytes;
      }
    }
    this.markWorker(worker);
    this.log("info", "worker-ready", {
      worker: worker.id,
      name: worker.name,
      kind: worker.kind,
      capacity: worker.capacity,
      services: worker.services.join(","),
    });
    return worker;
  }

  /** Rule 5: a worker found dead (or gone, or disconnected) has its tasks re-queued at once. */
  private lose(worker: Worker, why: string): void {
    if (worker.gone) return;
    this.workers.remove(worker);
    this.counters.workers--;
    this.timers.remove(worker.quarantineTimer);
    this.timers.remove(worker.heartbeatTimer);
    this.timers.remove(worker.livenessTimer);
    for (const name of worker.services) {
      const svc = this.services.get(name);
      if (svc === undefined) continue;
      svc.idle.delete(worker);
      if (--svc.workers === 0) {
        this.unserved += svc.queued;
        this.unservedBytes += svc.queuedBytes;
      }
    }
    this.dirtyWorkers.delete(worker);
    if (this.monitors.size > 0) this.removedWorkers.push(worker.id);
    this.log(why === "bye" || why === "retired" ? "info" : "warn", "worker-lost", { worker: worker.id, name: worker.name, why, tasks: worker.attempts.size });
    for (const attempt of [...worker.attempts.values()]) {
      this.closeAttempt(attempt);
      this.attemptEnded(attempt.task, "worker-lost", worker, `worker ${worker.name} was lost during attempt ${attempt.number} (${why})`);
    }
    // Cluster mode: tasks waiting here for a service whose last worker this was go back to the shared queue.
    if (this.clusterId !== undefined) {
      const orphaned = new Set(worker.services.filter((name) => this.services.get(name)?.workers === 0));
      if (orphaned.size > 0) {
        for (const task of this.tasks.inState("queued")) {
          if (task.cluster?.role === "leased" && orphaned.has(task.service)) this.giveBack(task, "worker-lost", undefined);
        }
      }
    }
    for (const name of worker.services) {
      const svc = this.services.get(name);
      if (svc !== undefined) this.maybeForget(svc);
    }
    // Rule 11: a quarantined worker that is now the best left for one of its services serves again.
    for (const other of [...this.workers.all()]) {
      if (other.quarantinedUntil !== undefined && !this.replaceable(other)) this.release(other);
    }
  }

  /**
   * §Security, revocation: a worker whose key was revoked is lost as if it had died; a client's tasks that no other
   * client waits for are cancelled (their workers get CANCEL); a monitor's subscriptions end.
   */
  private onRevoked(endpoint: "clients" | "workers" | "admin", peer: PeerKey): void {
    if (endpoint === "workers") {
      const worker = this.workers.ofPeer(peer);
      if (worker !== undefined) this.lose(worker, "key-revoked");
      return;
    }
    if (endpoint === "admin") {
      for (const monitor of [...this.monitors.values()]) if (monitor.peer === peer) this.dropMonitor(monitor);
      return;
    }
    for (const task of [...this.tasks.inState("queued"), ...this.tasks.inState("running")]) {
      if (task.client?.peer !== peer || (task.waiters ?? []).some((w) => w.peer !== peer)) continue;
      this.cancelTask(task, "the client's CURVE key was revoked");
    }
  }

  /**
   * §Durability: a RESULT from a worker that has not registered since the restart (it held the task before): accepted
   * when it names a recovered task that is still live, first answer wins. The worker is still told unknown-worker.
   */
  private orphanAnswer(taskFrame: Frame, payload: Frame[]): void {
    const task = this.runningHere(taskFrame);
    if (task === undefined || !task.orphan || (task.state !== "queued" && task.state !== "running")) return;
    this.log("info", "orphan-answer", { task: task.id });
    this.accept(task, payload, undefined);
  }

  /** Rule 8 / §Worker protocol: which of this worker's attempts a RESULT/FAIL/EXTEND is about, if any. */
  private attemptOf(worker: Worker, taskFrame: Frame, command: string): { task: Task; attempt: Attempt | undefined } | undefined {
    const task = this.runningHere(taskFrame);
    if (task === undefined) {
      this.counters.late++;
      this.log("debug", "late", { worker: worker.id, command });
      return undefined;
    }
    if (!task.orphan && (task.holders === undefined || !task.holders.includes(worker.id))) {
      this.counters.malformed.worker++;
      this.logLimited("workers", "foreign-task", { worker: worker.id, task: task.id, command });
      return undefined;
    }
    return { task, attempt: worker.attempts.get(task.id) };
  }

  private onResult(worker: Worker, taskFrame: Frame, payload: Frame[]): void {
    const found = this.attemptOf(worker, taskFrame, "RESULT");
    if (found === undefined) return;
    const { task, attempt } = found;
    this.answered(worker);
    if (attempt !== undefined) this.closeAttempt(attempt);
    if (task.state === "queued" || task.state === "running") this.accept(task, payload, worker);
    else {
      this.counters.late++;
      this.log("debug", "late", { worker: worker.id, task: task.id, command: "RESULT" });
    }
    this.offer(worker);
  }

  private onFail(worker: Worker, taskFrame: Frame, message: string, retryable: boolean, returned: boolean): void {
    const found = this.attemptOf(worker, taskFrame, "FAIL");
    if (found === undefined) return;
    const { task, attempt } = found;
    this.answered(worker);
    if (attempt === undefined) {
      this.counters.late++;
      return;
    }
    this.closeAttempt(attempt);
    if (returned && worker.leaving) return this.givenBack(task, worker, message);
    worker.failed++;
    if (retryable) this.attemptEnded(task, "worker-failed", worker, message);
    else this.finish(task, "failed", "worker-failed", message);
    this.offer(worker);
  }

  private onExtend(worker: Worker, taskFrame: Frame, timeout: number): void {
    const found = this.attemptOf(worker, taskFrame, "EXTEND");
    if (found === undefined) return;
    const { attempt } = found;
    if (attempt === undefined) {
      this.counters.late++;
      return;
    }
    this.timers.remove(attempt.timer);
    attempt.deadline = this.now + timeout;
    attempt.timer = this.timers.add(attempt.deadline, attempt);
  }

  /** §Leaving without losing work, step 1: no new task; held tasks run on and may be given back. */
  private onLeaving(worker: Worker): void {
    if (worker.leaving) return;
    worker.leaving = true;
    this.log("info", "worker-leaving", { worker: worker.id, name: worker.name, tasks: worker.attempts.size });
    this.markWorker(worker);
    this.updateIdle(worker, false);
  }

  /**
   * §Leaving without losing work, step 3: a leaving worker's FAIL `returned` ends the attempt without counting it —
   * the task goes back to the front of its queue (rule 4's "skip this worker" included) with its attempt number
   * unchanged. The attempt is already closed.
   */
  private givenBack(task: Task, worker: Worker, message: string): void {
    task.attempts--;
    if (this.phase !== "running" && !this.durable) return this.finish(task, "failed", "shutdown", "the broker is shutting down");
    this.counters.retried++;
    task.avoid = worker;
    this.setState(task, "queued");
    this.log("info", "task-given-back", { task: task.id, attempt: task.attempts + 1, worker: worker.id, message });
    this.enqueue(task, this.service(task.service), "front");
  }

  /** A leaving worker's final DISCONNECT: what it still holds crossed its announcement, and is given back. */
  private crossedLeaving(worker: Worker): void {
    for (const attempt of [...worker.attempts.values()]) {
      this.closeAttempt(attempt);
      this.givenBack(attempt.task, worker, "sent as the worker announced it was leaving");
    }
  }

  /** Admin DRAIN retire (since 1.1): once the worker holds nothing, DISCONNECT draining, and it is forgotten. */
  private retire(worker: Worker): void {
    this.toWorker(worker, { type: "disconnect", detail: { reason: "draining", message: "retired by an operator" } });
    this.lose(worker, "retired");
  }

  /** A legacy worker's answer on the PULL socket: it names only the task (§Worker protocol, legacy). */
  private onAnswer(msg: LegacyAnswer): void {
    const task = this.runningHere(msg.task);
    const legacy = task?.lastLegacy;
    if (task !== undefined && legacy === undefined && task.orphan) {
      if (task.state === "queued" || task.state === "running") this.accept(task, msg.payload, undefined);
      else this.counters.late++;
      return;
    }
    if (task === undefined || legacy === undefined) {
      if (task === undefined) this.counters.late++;
      else {
        this.counters.malformed.answers++;
        this.logLimited("answers", "foreign-task", { task: task.id });
      }
      return;
    }
    if (task.state !== "queued" && task.state !== "running") {
      this.counters.late++;
      return;
    }
    const attempt = task.current;
    const answerer = attempt !== undefined && attempt.worker.kind === "legacy" ? attempt.worker : legacy;
    this.answered(answerer);
    if (attempt !== undefined && attempt.worker === answerer) this.closeAttempt(attempt);
    this.accept(task, msg.payload, answerer);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Malformed input (§Codec error codes; what each endpoint answers)

  private onMalformed(input: Extract<Input, { kind: "malformed" }>): void {
    this.counters.malformed[malformedKey(input.endpoint)]++;
    const peer = input.peer;
    this.logLimited(input.endpoint, `malformed-${input.code}`, {
      endpoint: input.endpoint,
      peer: peer ?? null,
      code: input.code,
      detail: input.detail,
    });
    if (peer === undefined) return;
    switch (input.endpoint) {
      case "clients":
        if (input.replyPath !== undefined) {
          const client: ClientRef = { peer, path: input.replyPath, enveloped: input.enveloped === true, correlation: undefined };
          this.reply(client, { status: "failed", reason: "malformed", message: input.detail, error: input.code, attempts: 0, elapsed: 0 }, []);
        }
        return;
      case "workers": {
        const worker = this.workers.ofPeer(peer);
        if (worker?.kind === "legacy") return; // a REQ peer cannot be sent DISCONNECT
        if (worker === undefined && input.enveloped !== true) return;
        const detail = { reason: "protocol-error" as const, message: input.code };
        this.out.push({ kind: "to-worker", peer, msg: { type: "disconnect", detail } });
        if (worker !== undefined) {
          worker.lastSent = this.now;
          this.lose(worker, "protocol-error");
        }
        return;
      }
      case "admin":
        if (input.replyPath !== undefined) {
          this.toAdmin(peer, { type: "error", path: input.replyPath, code: "malformed", message: input.code });
        }
        return;
      case "answers":
        return;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Admin (§Admin)

  private toAdmin(peer: PeerKey, msg: AdminReply): void {
    this.out.push({ kind: "to-admin", peer, msg });
  }

  private onAdmin(peer: PeerKey, msg: AdminRequest): void {
    if (msg.type === "peer-gone") {
      for (const monitor of [...this.monitors.values()]) if (monitor.peer === peer) this.dropMonitor(monitor);
      return;
    }
    const path = msg.path;
    const error = (code: "unknown-task" | "unknown-worker" | "bad-state", message: string): void =>
      this.toAdmin(peer, { type: "error", path, code, message });
    switch (msg.type) {
      case "snapshot":
        return this.toAdmin(peer, { type: "snapshot", path, snapshot: this.snapshot(msg.query, this.now) });
      case "subscribe":
        return this.subscribe(peer, path, msg.lease);
      case "inspect": {
        const found = this.inspect(msg.task);
        if (found === undefined) return error("unknown-task", `no task ${msg.task}`);
        return this.toAdmin(peer, { type: "task", path, inspection: found });
      }
      case "cancel": {
        const task = this.visibleTask(msg.task);
        if (task === undefined) return error("unknown-task", `no task ${msg.task}`);
        if (!this.cancelTask(task)) return error("bad-state", `task ${task.id} is ${task.state}`);
        return this.toAdmin(peer, { type: "ack", path, body: {} });
      }
      case "retry": {
        const task = this.visibleTask(msg.task);
        if (task === undefined) return error("unknown-task", `no task ${msg.task}`);
        if (task.state !== "failed" && task.state !== "cancelled") return error("bad-state", `task ${task.id} is ${task.state}`);
        if (this.phase !== "running") return error("bad-state", "the broker is shutting down");
        const svc = this.service(task.service);
        if (this.config.maxQueue !== null && svc.queued >= this.config.maxQueue) {
          this.maybeForget(svc);
          return error("bad-state", `service "${task.service}" queue is full`);
        }
        const retry = this.tasks.create({
          service: task.service,
          origin: "admin",
          client: undefined,
          payload: task.payload,
          maxAttempts: task.maxAttempts,
          timeout: task.timeout,
          createdAt: this.now,
          key: undefined,
        });
        this.counters.requests++;
        this.counters.queued++;
        this.took(payloadCost(retry) + MEMORY.taskCost);
        this.journal({ op: "accept", task: this.taskRecord(retry) });
        this.log("info", "task-admin-retry", { task: task.id, retry: retry.id });
        this.toAdmin(peer, { type: "ack", path, body: { task: retry.id } });
        if (this.clusterId !== undefined) return this.toCluster(retry, this.clusterId);
        this.enqueue(retry, svc, "back");
        return;
      }
      case "drain": {
        const worker = this.workers.get(msg.worker);
        if (worker === undefined) return error("unknown-worker", `no worker ${msg.worker}`);
        if (msg.retire === true && worker.kind === "legacy") {
          return error("bad-state", `worker ${worker.id} is a legacy worker: it cannot be told to leave (drain it and stop its process)`);
        }
        worker.draining = msg.drain ?? true;
        worker.retiring = msg.retire === true;
        this.markWorker(worker);
        this.updateIdle(worker, false);
        this.toAdmin(peer, { type: "ack", path, body: {} });
        this.offer(worker);
        return;
      }
      case "delete": {
        const target = msg.target;
        if ("task" in target) {
          const task = this.visibleTask(target.task);
          if (task === undefined) return error("unknown-task", `no task ${target.task}`);
          if (task.state === "queued" || task.state === "running") {
            return error("bad-state", `task ${task.id} is ${task.state}: cancel it first`);
          }
          this.deleteTask(task);
          return this.toAdmin(peer, { type: "ack", path, body: { deleted: 1 } });
        }
        let deleted = 0;
        for (const task of this.tasks.inState("failed")) {
          if (target.service !== undefined && task.service !== target.service) continue;
          this.deleteTask(task);
          deleted++;
        }
        this.log("info", "tasks-deleted", { state: target.state, service: target.service ?? null, deleted });
        return this.toAdmin(peer, { type: "ack", path, body: { deleted } });
      }
      default:
        return msg satisfies never;
    }
  }

  /** Admin DELETE: the task, its kept result and its dead letter are gone (from the journal too). */
  private deleteTask(task: Task): void {
    if (task.listed) this.markRemovedTask(task);
    this.forgetTask(task);
  }

  private subscribe(peer: PeerKey, path: RoutingPath, lease: number | undefined): void {
    const ms = Math.min(LEASE.max, Math.max(LEASE.min, Math.floor(lease ?? LEASE.default)));
    const key = pathKey(peer, path);
    let monitor = this.monitors.get(key);
    if (monitor === undefined) {
      if (this.monitors.size === 0) this.lastEventCounters = JSON.stringify(this.counters);
      monitor = { key, peer, path, expires: this.now + ms, timer: undefined };
      monitor.timer = this.timers.add(monitor.expires, { kind: "lease", monitor });
      this.monitors.set(key, monitor);
    }
    monitor.path = path;
    monitor.expires = this.now + ms;
    this.toAdmin(peer, { type: "ack", path, body: { seq: this.seq } });
  }

  private dropMonitor(monitor: Monitor): void {
    this.timers.remove(monitor.timer);
    this.monitors.delete(monitor.key);
    if (this.monitors.size === 0) this.clearEvents();
  }

  private markTask(task: Task): void {
    if (this.monitors.size > 0 && task.listed) this.dirtyTasks.add(task);
  }

  private markWorker(worker: Worker): void {
    if (this.monitors.size > 0 && !worker.gone) this.dirtyWorkers.add(worker);
  }

  private markRemovedTask(task: Task): void {
    if (this.monitors.size === 0) return;
    this.dirtyTasks.delete(task);
    this.removedTasks.push(task.id);
  }

  private eventPending(): boolean {
    return (
      this.dirtyTasks.size > 0 ||
      this.dirtyWorkers.size > 0 ||
      this.removedTasks.length > 0 ||
      this.removedWorkers.length > 0 ||
      JSON.stringify(this.counters) !== this.lastEventCounters
    );
  }

  /** §Admin EVENT: at most one per EVENT_INTERVAL, to every monitor whose lease is alive. */
  private flushEvents(): void {
    const tasks = [];
    for (const task of this.dirtyTasks) {
      if (tasks.length >= EVENT_TASKS) break;
      tasks.push(taskView(task));
      this.dirtyTasks.delete(task);
    }
    this.seq++;
    const counters = copyCounters(this.counters);
    this.lastEventCounters = JSON.stringify(this.counters);
    this.lastEventAt = this.now;
    const event = {
      seq: this.seq,
      time: this.now,
      counters,
      tasks,
      workers: [...this.dirtyWorkers].map(workerView),
      removed: { tasks: this.removedTasks.splice(0), workers: this.removedWorkers.splice(0) },
    };
    this.dirtyWorkers.clear();
    for (const monitor of this.monitors.values()) {
      this.toAdmin(monitor.peer, { type: "event", path: monitor.path, event });
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Time (attempt deadlines, heartbeats, liveness, leases, EVENT coalescing, shutdown grace)

  private onTimer(timer: CoreTimer): void {
    switch (timer.kind) {
      case "attempt":
        return this.onAttemptTimeout(timer);
      case "heartbeat": {
        const worker = timer.worker;
        if (worker.gone) return;
        const due = worker.lastSent + this.config.heartbeat;
        if (this.now >= due) this.toWorker(worker, { type: "heartbeat", interval: this.config.heartbeat });
        worker.heartbeatTimer = this.timers.add(worker.lastSent + this.config.heartbeat, timer);
        return;
      }
      case "liveness": {
        const worker = timer.worker;
        if (worker.gone || worker.heartbeat === null) return;
        const due = worker.lastSeen + LIVENESS * worker.heartbeat;
        if (this.now >= due) return this.lose(worker, "heartbeat-expired");
        worker.livenessTimer = this.timers.add(due, timer);
        return;
      }
      case "lease": {
        const monitor = timer.monitor;
        if (this.now >= monitor.expires) this.dropMonitor(monitor);
        else monitor.timer = this.timers.add(monitor.expires, timer);
        return;
      }
      case "events":
        this.eventTimer = undefined;
        return; // finishStep flushes
      case "grace":
        this.graceTimer = undefined;
        return this.stop();
      case "quarantine":
        timer.worker.quarantineTimer = undefined;
        return this.release(timer.worker);
      case "kept":
        this.keptTimer = undefined;
        this.expireKept(this.now);
        return this.scheduleKept();
      case "expiry":
        timer.task.expiry = undefined;
        return this.onExpiry(timer.task);
      case "cluster-depth":
        this.timers.add(this.now + CLUSTER.depthEvery, timer);
        this.clusterOut({ kind: "cluster-depth", services: [...new Set([...this.services.keys(), ...this.askedFor])] });
        this.askedFor.clear();
        return;
      case "cluster-retry":
        this.retryTimer = undefined;
        for (const svc of [...this.services.values()]) this.askCluster(svc);
        return;
      case "unseen":
        // Clients of recovered tasks that never came back: their parked replies are dropped, as for a gone peer.
        this.unseen.clear();
        this.parked.clear();
        return;
      default:
        return timer satisfies never;
    }
  }

  /**
   * §Request deadlines: the request's deadline passed before its reply. A running attempt is cancelled (CANCEL
   * `timeout`, not counted against the worker: the wait may have been the queue's), and the task fails with expired.
   */
  private onExpiry(task: Task): void {
    if (task.state !== "queued" && task.state !== "running") return;
    if (task.cluster?.role === "origin") {
      // It waits in the shared queue or runs on some broker: it leaves both, as for a CANCEL.
      this.clusterOut({ kind: "cluster-cancel", task: task.id, seq: task.cluster.seq });
      const waited = this.now - task.createdAt;
      return this.finish(task, "failed", "expired", `the deadline passed after ${waited} ms, while the request waited in the cluster's queue or ran on a broker of the cluster`);
    }
    const attempt = task.current;
    const svc = this.services.get(task.service);
    const message = expiredMessage(task, this.now, svc?.workers ?? 0);
    if (attempt !== undefined) {
      this.closeAttempt(attempt);
      this.sendCancel(attempt.worker, task, "timeout");
    }
    this.finish(task, "failed", "expired", message);
    if (attempt !== undefined && attempt.worker.kind === "modern") this.offer(attempt.worker);
  }

  /** Rule 4: a timed-out attempt is cancelled on a modern worker (slot freed) and retried elsewhere. */
  private onAttemptTimeout(attempt: Attempt): void {
    const { task, worker } = attempt;
    if (task.current !== attempt) return;
    this.closeAttempt(attempt);
    this.sendCancel(worker, task, "timeout");
    worker.failed++;
    worker.timeouts++;
    if (worker.timeouts >= QUARANTINE.after && !worker.gone && this.replaceable(worker)) this.quarantine(worker);
    this.attemptEnded(task, "timeout", worker, `attempt ${attempt.number} timed out after ${this.now - attempt.startedAt} ms on worker ${worker.name}`);
    if (worker.kind === "modern") this.offer(worker);
  }

  /**
   * Rule 11: a worker whose attempts time out again and again (hung, or reading nothing while it heartbeats) gets no
   * task for a while, doubling with each further timeout, so retries go to workers that answer.
   */
  private quarantine(worker: Worker): void {
    const ms = Math.min(QUARANTINE.max, QUARANTINE.first * 2 ** (worker.timeouts - QUARANTINE.after));
    this.timers.remove(worker.quarantineTimer);
    worker.quarantinedUntil = this.now + ms;
    worker.quarantineTimer = this.timers.add(worker.quarantinedUntil, { kind: "quarantine", worker });
    this.updateIdle(worker, false);
    this.markWorker(worker);
    this.logLimited("workers", "worker-quarantined", { worker: worker.id, name: worker.name, timeouts: worker.timeouts, ms });
  }

  /**
   * Rule 11 quarantines a worker only when every service it serves has another worker that is neither draining nor
   * quarantined: a service's only worker, however slow, is better than none. O(workers), once per quarantine.
   */
  private replaceable(worker: Worker): boolean {
    return worker.services.every((name) => {
      for (const other of this.workers.all()) {
        if (other !== worker && !other.draining && other.quarantinedUntil === undefined && other.services.includes(name)) return true;
      }
      return false;
    });
  }

  /** Ends the quarantine of `worker` (its time is up, or it is no longer replaceable). */
  private release(worker: Worker): void {
    this.timers.remove(worker.quarantineTimer);
    worker.quarantineTimer = undefined;
    if (worker.gone || worker.quarantinedUntil === undefined) return;
    worker.quarantinedUntil = undefined;
    this.markWorker(worker);
    this.updateIdle(worker, false);
    this.offer(worker);
  }

  /** An answer or FAIL shows the worker reads its tasks: its timeout count starts again. */
  private answered(worker: Worker): void {
    worker.timeouts = 0;
  }

  private clearEvents(): void {
    this.dirtyTasks.clear();
    this.dirtyWorkers.clear();
    this.removedTasks.length = 0;
    this.removedWorkers.length = 0;
    this.timers.remove(this.eventTimer);
    this.eventTimer = undefined;
  }

  /** Ends every handle/tick: shutdown completion, the counters' journal record and EVENT coalescing. */
  private finishStep(): Output[] {
    if (this.phase === "draining" && this.counters.running === 0) this.stop();
    if (this.journaled) {
      this.journaled = false;
      this.out.push({ kind: "journal", record: { op: "counters", counters: copyCounters(this.counters) } });
    }
    if (this.monitors.size > 0 && this.eventTimer === undefined && this.eventPending()) {
      const due = this.lastEventAt + EVENT_INTERVAL;
      if (this.now >= due) {
        this.flushEvents();
        if (this.dirtyTasks.size > 0) this.eventTimer = this.timers.add(this.now + EVENT_INTERVAL, { kind: "events" });
      } else this.eventTimer = this.timers.add(due, { kind: "events" });
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Shutdown (rule 7)

  private onShutdown(grace: number): void {
    if (this.phase !== "running") return;
    this.phase = "draining";
    this.log("info", "shutdown", { grace, running: this.counters.running, queued: this.counters.queued });
    for (const svc of this.services.values()) {
      for (const worker of [...this.workers.all()]) svc.idle.delete(worker);
    }
    // Durable (§Durability): queued tasks stay in the journal for the next start, unanswered; in memory they would
    // be lost, so their clients get failed/shutdown now (rule 10).
    if (!this.durable) {
      for (const task of this.tasks.inState("queued")) {
        if (task.cluster?.role === "leased") this.giveBack(task, "shutdown", undefined);
        else this.finish(task, "failed", "shutdown", "the broker is shutting down");
      }
      // Cluster mode: the requests of this broker's clients stay in the shared queue and may still run elsewhere.
      for (const task of [...this.requests]) this.finish(task, "failed", "shutdown", CLUSTER_SHUTDOWN_MESSAGE);
    }
    if (this.counters.running > 0) this.graceTimer = this.timers.add(this.now + Math.max(0, grace), { kind: "grace" });
  }

  private stop(): void {
    if (this.phase === "stopped") return;
    // Durable: what still runs stays running in the journal, and the next start counts the attempt (recovery rule 2).
    if (!this.durable) {
      for (const task of this.tasks.inState("running")) {
        if (task.cluster?.role !== "leased") this.finish(task, "failed", "shutdown", "the broker is shutting down");
        else {
          const attempt = task.current;
          // Its worker hears DISCONNECT shutdown below; the task runs again on another broker.
          if (attempt !== undefined) this.closeAttempt(attempt);
          this.giveBack(task, "shutdown", undefined);
        }
      }
    }
    this.phase = "stopped";
    for (const worker of [...this.workers.all()]) {
      if (worker.kind === "modern") this.toWorker(worker, { type: "disconnect", detail: { reason: "shutdown" } });
      this.timers.remove(worker.heartbeatTimer);
      this.timers.remove(worker.livenessTimer);
    }
    this.timers.remove(this.graceTimer);
    for (const monitor of this.monitors.values()) this.timers.remove(monitor.timer);
    this.monitors.clear();
    this.clearEvents();
    this.log("info", "stopped", {});
    this.out.push({ kind: "stopped" });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Cluster mode (§Cluster mode): requests go to the shared queue, workers are fed from it, outcomes go to the origin

  /**
   * A task id from a monitor: in cluster mode a request of this broker's own client that also runs here has the same
   * id twice (the request, kept only to answer its client, and the task this broker runs): views show the latter.
   */
  private visibleTask(id: string): Task | undefined {
    const task = this.tasks.get(id);
    if (task?.cluster?.role !== "origin") return task;
    return this.leasedByRef.get(`${this.clusterId ?? ""}\n${id}`) ?? task;
  }

  /** The task a worker's message names: in cluster mode never the request of this broker's client, but its run here. */
  private runningHere(frame: Frame): Task | undefined {
    const task = this.tasks.byFrame(frame);
    if (task?.cluster?.role !== "origin") return task;
    return this.leasedByRef.get(`${this.clusterId ?? ""}\n${task.id}`);
  }

  private clusterOut(request: ClusterRequest): void {
    this.out.push({ kind: "cluster", request });
  }

  /** A request of this broker's client becomes a task in the shared queue (it is accepted once stored). */
  private publish(client: ClientRef, service: string, options: RequestLimits, payload: Frame[], broker: string): void {
    if (this.clusterLost !== null) {
      return this.reject(client, "unavailable", `the cluster is unreachable (NATS server ${this.clusterLost} lost): the request was not stored`);
    }
    const waiting = this.clusterDepth[service]?.waiting ?? 0;
    if (this.config.maxQueue !== null && waiting >= this.config.maxQueue) {
      return this.reject(client, "queue-full", `service "${service}" has ${waiting} tasks waiting in the cluster`);
    }
    const task = this.accepted(client, service, options, payload);
    // Bounded: a poll asks for at most this many services a client named (invented names cannot grow it).
    if (this.askedFor.size < CLUSTER.depthServices) this.askedFor.add(service);
    this.toCluster(task, broker);
  }

  private toCluster(task: Task, broker: string): void {
    // A request of this broker's client is not one of the tasks it shows (those are the tasks it runs, whoever asked):
    // it is kept only to answer its client, by id, correlation and key.
    task.cluster = { role: "origin", seq: undefined, awaiting: false };
    this.tasks.detach(task);
    this.requests.add(task);
    this.clusterOut({
      kind: "cluster-publish",
      task: {
        task: task.id,
        service: task.service,
        key: task.key ?? null,
        timeout: task.timeout,
        attempts: task.maxAttempts,
        origin: broker,
        client: task.client === undefined ? null : task.id,
        accepted: task.createdAt,
        payload: task.payload,
      },
    });
  }

  /**
   * Rule 1, one level up: pull as many tasks as this broker's workers of `svc` have free slots. One pull per service is
   * open at a time: slots freed meanwhile are asked for when it ends — at once under a backlog (it fills), and with
   * nothing lost when the queue is empty (nothing waits for them). A pull per freed slot cost a request per task.
   */
  private askCluster(svc: Service): void {
    if (this.clusterId === undefined || this.phase !== "running" || this.clusterLost !== null || svc.idle.size === 0) return;
    if ((this.asked.get(svc.name) ?? 0) > 0) return;
    let free = 0;
    for (const worker of svc.idle.values()) free += Math.max(0, worker.capacity - worker.held);
    const want = free - svc.queued;
    if (want <= 0) return;
    this.asked.set(svc.name, want);
    this.clusterOut({ kind: "cluster-fetch", service: svc.name, count: want });
  }

  private onCluster(event: ClusterEvent): void {
    switch (event.kind) {
      case "cluster-published": {
        const task = this.tasks.get(event.task);
        if (task?.cluster?.role !== "origin" || task.state !== "queued") return;
        task.cluster.seq = event.seq;
        // A resend of a key whose task is already queued or running (its first broker may be gone): answered when
        // that task's reply is kept.
        if (event.duplicate && task.key !== undefined) {
          task.cluster.awaiting = true;
          this.clusterOut({ kind: "cluster-await-result", service: task.service, key: task.key });
        }
        return;
      }
      case "cluster-publish-failed": {
        const task = this.tasks.get(event.task);
        if (task?.cluster?.role !== "origin" || task.state !== "queued") return;
        this.finish(task, "failed", "unavailable", `not stored in the cluster: ${event.error}`);
        // Never stored, so not the key's outcome: a resend of the key is a new try, published again.
        this.dropKey(task);
        return;
      }
      case "cluster-fetched":
        this.answeredPull(event.service, event.tasks.length);
        for (const fetched of event.tasks) this.lease(fetched);
        return this.askService(event.service);
      case "cluster-fetch-ended":
        this.answeredPull(event.service, event.unfilled);
        return this.askService(event.service);
      case "cluster-fetch-failed":
        this.answeredPull(event.service, event.unfilled);
        this.logLimited("cluster", "cluster-fetch-failed", { service: event.service, message: event.error }, "warn");
        this.retryTimer ??= this.timers.add(this.now + CLUSTER.retry, { kind: "cluster-retry" });
        return;
      case "cluster-reply-received": {
        const task = this.tasks.get(event.reply.task);
        if (task?.cluster?.role !== "origin" || task.state !== "queued") {
          this.counters.late++;
          return;
        }
        return this.answerFromCluster(task, event.reply);
      }
      case "cluster-result": {
        const task = this.keys.get(keyOf(event.service, event.key));
        if (task?.cluster?.role !== "origin" || !task.cluster.awaiting || task.state !== "queued") return;
        return this.answerFromCluster(task, event.reply);
      }
      case "cluster-cancelled": {
        const task = this.leasedByRef.get(`${event.origin}\n${event.task}`);
        if (task !== undefined) this.cancelTask(task);
        return;
      }
      case "cluster-exhausted":
        return this.answerLost(event.task, event.deliveries, undefined);
      case "cluster-depth":
        this.clusterDepth = event.depth;
        return;
      case "cluster-disconnected":
        this.clusterLost = event.server;
        this.log("warn", "cluster-lost", { server: event.server });
        return;
      case "cluster-reconnected":
        this.clusterLost = null;
        this.log("info", "cluster-back", { server: event.server });
        for (const svc of [...this.services.values()]) this.askCluster(svc);
        return;
      case "cluster-warning":
        this.logLimited("cluster", "cluster-warning", { message: event.message }, "warn");
        return;
      default:
        return event satisfies never;
    }
  }

  private answeredPull(service: string, count: number): void {
    const left = (this.asked.get(service) ?? 0) - count;
    if (left > 0) this.asked.set(service, left);
    else this.asked.delete(service);
  }

  private askService(name: string): void {
    const svc = this.services.get(name);
    if (svc !== undefined) this.askCluster(svc);
  }

  /**
   * One delivery of a task to this broker: it runs here as attempt `deliveryCount` (attempts are counted per
   * delivery), or goes back at once when no worker of its service is left (or the broker is stopping).
   */
  private lease(fetched: FetchedTask): void {
    const { task: spec, lease, deliveryCount } = fetched;
    if (spec.attempts !== null && deliveryCount > spec.attempts) return this.answerLost(spec, deliveryCount - 1, lease);
    const held = this.leasedByRef.get(`${spec.origin}\n${spec.task}`);
    if (held?.cluster?.role === "leased") {
      // Delivered again while still here (this broker stalled past its lease): it keeps running under the new lease.
      this.clusterOut({ kind: "cluster-drop", lease: held.cluster.lease });
      held.cluster.lease = lease;
      return;
    }
    // Delivered again after it finished here (its settlement was lost to a NATS or broker failure): it is settled
    // again with the outcome it had, not run again.
    const finished = this.tasks.foreignTask(spec.task);
    if (finished !== undefined) {
      if (finished.state === "succeeded" || finished.state === "failed" || finished.state === "cancelled") return this.settleFinished(finished, lease);
      this.clusterOut({ kind: "cluster-nak", lease, delay: 0 });
      return;
    }
    const svc = this.services.get(spec.service);
    if (this.phase !== "running" || svc === undefined || svc.workers === 0) {
      this.clusterOut({ kind: "cluster-nak", lease, delay: 0 });
      return;
    }
    const task = this.tasks.createForeign({
      service: spec.service,
      origin: "cluster",
      client: undefined,
      payload: [...spec.payload],
      maxAttempts: spec.attempts,
      timeout: spec.timeout,
      createdAt: this.now,
      key: undefined,
    }, spec.task);
    task.attempts = deliveryCount - 1;
    task.cluster = { role: "leased", lease, from: spec.origin, ref: spec.task, key: spec.key };
    const ref = `${spec.origin}\n${spec.task}`;
    this.leasedByRef.set(ref, task);
    const before = this.returned.get(ref);
    if (before !== undefined) {
      this.returned.delete(ref);
      if (before.holders.length > 0) task.holders = [...before.holders];
      if (before.avoid !== undefined && !before.avoid.gone) task.avoid = before.avoid;
    }
    this.counters.queued++;
    this.took(payloadCost(task) + MEMORY.taskCost);
    this.enqueue(task, svc, "back");
  }

  /** Rule 4 in cluster mode: an attempt that ended with attempts left goes back to the shared queue. */
  private giveBack(task: Task, reason: AttemptEnd | "shutdown", worker: Worker | undefined): void {
    const hold = task.cluster;
    if (hold?.role !== "leased") return;
    this.counters.retried++;
    this.log("info", "task-retried", { task: task.id, attempt: task.attempts, reason, worker: worker?.id ?? null });
    this.clusterOut({ kind: "cluster-nak", lease: hold.lease, delay: 0 });
    const ref = `${hold.from}\n${hold.ref}`;
    this.leasedByRef.delete(ref);
    this.returned.delete(ref);
    this.returned.set(ref, { holders: task.holders ?? [], avoid: worker });
    if (this.returned.size > CLUSTER.returned) this.returned.delete(this.returned.keys().next().value ?? "");
    this.setState(task, "cancelled");
    this.markRemovedTask(task);
    this.tasks.forget(task);
  }

  /** The terminal transition's cluster half: a leased task's outcome is kept, settled, and sent to its origin. */
  private clusterFinished(task: Task): void {
    const hold = task.cluster;
    if (hold === undefined) return;
    if (hold.role === "origin") {
      this.requests.delete(task);
      if (hold.awaiting && task.key !== undefined) this.clusterOut({ kind: "cluster-stop-awaiting", service: task.service, key: task.key });
      if (task.keptUntil === 0) this.forgetTask(task);
      return;
    }
    this.leasedByRef.delete(`${hold.from}\n${hold.ref}`);
    this.settleFinished(task, hold.lease);
  }

  /** A finished leased task's outcome: kept for its key, settled under `lease`, sent to the broker holding its client. */
  private settleFinished(task: Task, lease: string): void {
    const hold = task.cluster;
    if (hold?.role !== "leased") return;
    const detail: ClusterReply["detail"] = { status: task.state === "succeeded" ? "succeeded" : "failed", attempts: task.attempts };
    if (task.reason !== undefined) detail.reason = task.reason;
    if (task.message !== undefined) detail.message = task.message;
    if (task.workerName !== undefined) detail.worker = task.workerName;
    const reply: ClusterReply = { task: hold.ref, service: task.service, detail, payload: task.reply ?? [] };
    this.clusterOut({ kind: "cluster-settle", lease, ack: task.state === "succeeded", keep: hold.key === null ? undefined : { key: hold.key, reply } });
    this.replyToOrigin(hold.from, reply);
  }

  /** Attempts exhausted with the last holder gone: the client gets failed/worker-lost (kept, for resends). */
  private answerLost(spec: ClusterTask, attempts: number, lease: string | undefined): void {
    const reply: ClusterReply = {
      task: spec.task,
      service: spec.service,
      detail: { status: "failed", reason: "worker-lost", message: `the broker holding attempt ${attempts} was lost, and no attempts remain`, attempts },
      payload: [],
    };
    const keep = spec.key === null ? undefined : { key: spec.key, reply };
    if (lease !== undefined) this.clusterOut({ kind: "cluster-settle", lease, ack: false, keep });
    else if (keep !== undefined) this.clusterOut({ kind: "cluster-keep", ...keep });
    this.log("warn", "task-exhausted", { task: spec.task, origin: spec.origin, attempts });
    this.replyToOrigin(spec.origin, reply);
  }

  private replyToOrigin(origin: string, reply: ClusterReply): void {
    if (origin !== this.clusterId) return this.clusterOut({ kind: "cluster-reply", origin, reply });
    const task = this.tasks.get(reply.task);
    if (task?.cluster?.role === "origin" && task.state === "queued") this.answerFromCluster(task, reply);
    else this.counters.late++;
  }

  /** The origin's half: the first outcome of its request that reaches it answers every client waiting for it. */
  private answerFromCluster(task: Task, reply: ClusterReply): void {
    const { detail } = reply;
    task.attempts = detail.attempts;
    task.workerName = detail.worker;
    task.reply = [...reply.payload];
    this.took(framesCost(task.reply));
    const state = detail.status === "succeeded" ? "succeeded" : detail.reason === "cancelled" ? "cancelled" : "failed";
    this.finish(task, state, detail.reason, detail.message);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Durability (§Durability): journal records out, recovered state in

  private journal(record: JournalRecord): void {
    if (!this.durable) return;
    this.journaled = true;
    this.out.push({ kind: "journal", record });
  }

  private taskRecord(task: Task): TaskRecord {
    const record: { -readonly [K in keyof TaskRecord]: TaskRecord[K] } = {
      seq: task.seq,
      service: task.service,
      origin: task.origin,
      payload: task.payload,
      maxAttempts: task.maxAttempts,
      timeout: task.timeout,
      createdAt: task.createdAt,
      state: task.state,
      attempts: task.attempts,
    };
    if (task.key !== undefined) record.key = task.key;
    if (task.client !== undefined) record.client = clientRecord(task.client);
    return record;
  }

  /**
   * The recovery rules (§Durability, normative): the journal's live tasks are queued again in creation order; a task
   * that was running keeps the attempt it used, fails with worker-lost when that was its last, and accepts an answer
   * from any worker; finished tasks return to their histories, with their keys while kept; counters continue. Replies
   * to clients of recovered tasks wait until the client reconnects (for at most `keepResults`).
   */
  private recover(state: RecoveredState): void {
    if (this.recovered || this.tasks.count() > 0) throw new Error("recover must be the core's first input");
    this.recovered = true;
    if (state.counters !== undefined) {
      Object.assign(this.counters, copyCounters(state.counters), { queued: 0, running: 0, workers: 0 });
      this.counters.deduplicated ??= 0;
    }
    const records = [...state.tasks].sort((a, b) => a.seq - b.seq);
    const live: Task[] = [];
    const finished: { task: Task; record: TaskRecord }[] = [];
    for (const record of records) {
      const wasLive = record.state === "queued" || record.state === "running";
      const task = this.tasks.restore({
        seq: record.seq,
        service: record.service,
        origin: record.origin,
        key: record.key,
        client: record.client === undefined || madeUpId(record.client.peer) ? undefined : clientRef(record.client),
        payload: [...record.payload],
        maxAttempts: record.maxAttempts,
        timeout: record.timeout,
        createdAt: record.createdAt,
        state: wasLive ? "queued" : record.state,
        attempts: record.attempts,
      });
      const waiters = record.waiters?.filter((waiter) => !madeUpId(waiter.peer)) ?? [];
      if (waiters.length > 0) task.waiters = waiters.map(clientRef);
      this.took(payloadCost(task) + MEMORY.taskCost + framesCost(record.reply ?? []));
      if (wasLive) {
        // Any attempt made is one the crash may have interrupted: its worker is unknown from now on.
        task.orphan = record.attempts > 0;
        this.counters.queued++;
        live.push(task);
        for (const client of this.clientsOf(task)) this.unseen.add(client.peer);
        if (task.key !== undefined) this.keys.set(keyOf(task.service, task.key), task);
        for (const client of this.clientsOf(task)) this.correlate(client, task);
      } else {
        task.finishedAt = record.finishedAt;
        task.reason = record.reason;
        task.message = record.message;
        task.workerName = record.worker;
        task.reply = record.reply === undefined ? undefined : [...record.reply];
        finished.push({ task, record });
      }
    }
    // Each history in finishing order, then its bound (which may be smaller than the last run's).
    finished.sort((a, b) => (a.task.finishedAt ?? 0) - (b.task.finishedAt ?? 0) || a.task.seq - b.task.seq);
    for (const { task, record } of finished) {
      this.tasks.setState(task, task.state);
      const keptUntil = record.keptUntil ?? 0;
      if (task.key !== undefined && keptUntil > this.now) {
        task.keptUntil = keptUntil;
        this.keptCount++;
        this.keptBytes += keptCost(task);
        this.kept.pushBack(task);
        this.keys.set(keyOf(task.service, task.key), task);
      }
    }
    for (const state of ["succeeded", "failed", "cancelled"] as const) this.trim(state);
    this.scheduleKept();
    this.redeliver(finished.map(({ task }) => task));
    for (const task of live) {
      if (task.orphan) this.counters.retried++;
      const exhausted = task.orphan && task.maxAttempts !== null && task.attempts >= task.maxAttempts;
      if (exhausted) {
        this.finish(task, "failed", "worker-lost", `the broker stopped during attempt ${task.attempts} of ${task.maxAttempts}`);
      } else {
        this.enqueue(task, this.service(task.service), "back");
      }
    }
    if (this.unseen.size > 0) this.timers.add(this.now + (this.keepResults > 0 ? this.keepResults : KEEP_RESULTS_MS), { kind: "unseen" });
    this.log("info", "recovered", {
      queued: this.counters.queued,
      finished: finished.length,
      kept: this.keptCount,
      clients: this.unseen.size,
    });
    this.journaled = true;
  }

  /**
   * §Durability, replies in flight at a crash: a reply is sent after its commit, but the crash may come before the
   * socket wrote it out. Tasks that finished in the last REDELIVERY_WINDOW before the crash send their reply again to
   * their enveloped clients when these reconnect: an enveloped reply carries the correlation id, so a client that had
   * it already ignores the copy. A plain reply carries nothing a client could check, so it is never sent twice.
   */
  private redeliver(finished: readonly Task[]): void {
    let last = 0;
    for (const task of finished) last = Math.max(last, task.finishedAt ?? 0);
    for (const task of finished) {
      if ((task.finishedAt ?? 0) < last - REDELIVERY_WINDOW) continue;
      const detail = this.outcome(task);
      for (const client of this.clientsOf(task)) {
        if (!client.enveloped) continue;
        this.unseen.add(client.peer);
        this.reply(client, { ...detail, resent: true }, task.reply ?? []);
        this.counters.replies--; // a copy of a reply already counted
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Logs

  private log(level: LogLevel, event: string, fields: Record<string, string | number | boolean | null>): void {
    this.out.push({ kind: "log", level, event, fields });
  }

  /**
   * §What the receiver does: at most one line per LOG_INTERVAL per endpoint and kind (the kind names the code),
   * whichever peers sent the bad messages, so neither one peer nor many new connections can flood the log; the next
   * line carries `suppressed`, the lines left out since the previous one. Keys are bounded by endpoints x kinds.
   * Task endings (scope "tasks") are limited the same way: a mass failure is one line a second, not one per task.
   */
  private logLimited(
    scope: Endpoint | "tasks" | "cluster",
    event: string,
    fields: Record<string, string | number | boolean | null>,
    level: LogLevel = "warn",
  ): void {
    const key = `${scope}|${event}`;
    const last = this.lastLog.get(key);
    if (last !== undefined && this.now - last.at < LOG_INTERVAL) {
      last.suppressed++;
      return;
    }
    this.lastLog.set(key, { at: this.now, suppressed: 0 });
    this.log(level, event, last !== undefined && last.suppressed > 0 ? { ...fields, suppressed: last.suppressed } : fields);
  }
}
