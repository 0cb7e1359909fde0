/**
 * The modern worker (protocol/spec.md §Worker <-> broker): a DEALER that sends READY, runs up to `capacity` tasks at
 * once, answers RESULT or FAIL, heartbeats when idle and watches the broker's heartbeats.
 *
 * Connection life cycle: every (re)connection is a NEW socket (so a new routing id on the broker) followed by READY.
 * Reconnects, with back-off, happen when the broker falls silent for 3 of its announced intervals, when libzmq reports
 * the connection gone, and on DISCONNECT {unknown-worker | protocol-error | shutdown} (a restarted broker gets the
 * worker back). DISCONNECT {draining | bye} stops the worker: the broker asked it to leave.
 * Tasks still running when a connection ends are aborted and their results dropped: the broker has re-queued them.
 */
import { Dealer } from "zeromq";
import { decodeToWorker, encodeWorker } from "../codec";
import type { BrokerToWorker, CancelReason, DisconnectDetail, Frame, WorkerMessage } from "../protocol/messages";
import { CAPACITY, HEARTBEAT, LIVENESS, MAX_FAIL_MESSAGE, MAX_NAME, MAX_SERVICES } from "../protocol/limits";
import { Backoff, type BackoffOptions } from "../peer/backoff";
import { idFrame, idKey, toFrames, type PayloadLike } from "../peer/frames";
import { silentLogger, type PeerLogger } from "../peer/logger";
import { SendQueue } from "../peer/send-queue";
import { applyClientSecurity, type PeerKeys } from "../security/curve-client";
import { errorMessage, isRetryable, TaskCancelledError, truncateUtf8 } from "./errors";
import { StatusEvents, type WorkerDisconnectReason, type WorkerStatus } from "./status";

export interface WorkerTask {
  /** The task id (opaque octets as a latin1 string; ztb's ids are printable ASCII). Pass it to `extend`. */
  id: string;
  payload: Uint8Array[];
  service: string;
  /** This attempt's number, from 1. */
  attempt: number;
  /** Maximum attempts, null = unlimited. */
  attempts: number | null;
  /** This attempt's timeout in ms, null = none. */
  timeout: number | null;
  /** Aborted (with a TaskCancelledError) when the broker cancels the task or the connection ends. */
  signal: AbortSignal;
}

/** Resolve with the answer frames; throw to FAIL (retryable unless the error is a NonRetryableError). */
export type TaskHandler = (task: WorkerTask) => Promise<PayloadLike>;

export interface WorkerOptions {
  /** The broker's workers endpoint, e.g. tcp://localhost:4162. */
  endpoint: string;
  /** 1..64 characters; default `w-<pid>`. */
  name?: string;
  /** Default ["default"]. */
  services?: string[];
  /** Tasks run at once, 1..1000; default 1. */
  capacity?: number;
  /** This worker's heartbeat interval in ms, 100..60000; default 1000. */
  heartbeat?: number;
  handler: TaskHandler;
  reconnect?: BackoffOptions;
  logger?: PeerLogger;
  /** CURVE (protocol/spec.md §Security): this peer's key pair and the broker's public key; default: none. */
  curve?: PeerKeys;
}

/** Why `stopped` resolved. */
export type WorkerStopReason = "closed" | "draining" | "bye";

interface Running {
  readonly key: string;
  readonly controller: AbortController;
  /** Set when CANCEL arrived: the slot is free and the result only matters after a timeout (first answer wins). */
  cancelled?: CancelReason;
}

interface Session {
  readonly socket: Dealer;
  readonly queue: SendQueue;
  readonly tasks: Map<string, Running>;
  lastSent: number;
  lastReceived: number;
  accepted: boolean;
}

const DISCONNECT_GRACE_MS = 500;

export class Worker extends StatusEvents {
  readonly name: string;
  readonly services: string[];
  readonly capacity: number;
  readonly heartbeat: number;
  /** Resolves once the worker has stopped for good (close(), or the broker told it to leave). */
  readonly stopped: Promise<WorkerStopReason>;

  private readonly backoff: Backoff;
  private readonly logger: PeerLogger;
  private session: Session | undefined;
  private brokerHeartbeat: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnects = 0;
  private state: "new" | "running" | "stopped" = "new";
  private resolveStopped!: (reason: WorkerStopReason) => void;

  constructor(private readonly options: WorkerOptions) {
    super();
    this.name = options.name ?? `w-${process.pid}`;
    this.services = options.services ?? ["default"];
    this.capacity = options.capacity ?? 1;
    this.heartbeat = options.heartbeat ?? 1000;
    checkRange("capacity", this.capacity, CAPACITY.min, CAPACITY.max);
    checkRange("heartbeat", this.heartbeat, HEARTBEAT.min, HEARTBEAT.max);
    if (this.name.length < 1 || this.name.length > MAX_NAME) throw new RangeError(`worker name must be 1..${MAX_NAME} characters`);
    if (this.services.length < 1 || this.services.length > MAX_SERVICES) throw new RangeError(`a worker serves 1..${MAX_SERVICES} services`);
    for (const s of this.services) {
      if (s.length < 1 || s.length > MAX_NAME) throw new RangeError(`service name must be 1..${MAX_NAME} characters: "${s}"`);
    }
    this.backoff = new Backoff(options.reconnect);
    this.logger = options.logger ?? silentLogger;
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  /** Tasks this worker holds (TASK received, no RESULT/FAIL sent, not cancelled). */
  get held(): number {
    return this.session?.tasks.size ?? 0;
  }

  /** Connects and sends READY. Throws at once if the endpoint is invalid (libzmq's EINVAL). */
  start(): void {
    if (this.state !== "new") throw new Error("worker already started");
    this.state = "running";
    try {
      this.open();
    } catch (error) {
      this.state = "stopped";
      this.resolveStopped("closed");
      throw error;
    }
  }

  /**
   * EXTEND (§Worker: EXTEND): moves this attempt's deadline to now + `ms`. Returns false when the task is no longer
   * held (answered, cancelled, or the connection was replaced).
   */
  extend(taskId: string, ms: number): boolean {
    checkRange("extend timeout", ms, 1, 3_600_000);
    const session = this.session;
    if (session === undefined || !session.tasks.has(taskId)) return false;
    this.send(session, { type: "extend", task: idFrame(taskId), timeout: ms });
    return true;
  }

  /** Graceful stop: aborts running handlers, sends DISCONNECT {bye} so the broker re-queues at once, closes. */
  async close(): Promise<void> {
    if (this.state === "stopped") return;
    const session = this.session;
    this.finish("closed");
    if (session === undefined) return;
    session.socket.linger = DISCONNECT_GRACE_MS;
    const bye = session.queue.send(encodeWorker({ type: "disconnect", detail: { reason: "bye" } }));
    await Promise.race([bye.catch(() => undefined), delay(DISCONNECT_GRACE_MS)]);
    session.queue.close();
    session.socket.close();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Connection

  private open(): void {
    const socket = new Dealer({ linger: 0 });
    if (this.options.curve) applyClientSecurity(socket, this.options.curve);
    const now = Date.now();
    const session: Session = {
      socket,
      queue: new SendQueue(socket),
      tasks: new Map(),
      lastSent: now,
      lastReceived: now,
      accepted: false,
    };
    this.session = session;
    socket.events.on("connect", () => {
      if (this.session === session) this.emit({ type: "connected", endpoint: this.options.endpoint });
    });
    socket.events.on("disconnect", () => {
      if (this.session === session) this.reconnect(session, "connection-lost");
    });
    // Connect after subscribing: libzmq's monitor does not replay events that happened before it existed.
    try {
      socket.connect(this.options.endpoint);
    } catch (error) {
      this.session = undefined;
      socket.close();
      throw error;
    }
    this.send(session, {
      type: "ready",
      options: { name: this.name, services: this.services, capacity: this.capacity, heartbeat: this.heartbeat },
    });
    void this.receive(session);
    this.schedule();
  }

  /** Ends `session` (aborting its tasks) and opens a new one after the back-off delay. */
  private reconnect(session: Session, reason: WorkerDisconnectReason, message?: string): void {
    if (this.session !== session || this.state !== "running") return;
    this.endSession(session, reason, message, true);
    const wait = this.backoff.next();
    this.reconnects++;
    this.logger.info("worker-reconnecting", { reason, delay: wait, attempt: this.reconnects });
    this.emit({ type: "reconnecting", delay: wait, attempt: this.reconnects });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === "running") this.open();
    }, wait);
  }

  private endSession(session: Session, reason: WorkerDisconnectReason, message: string | undefined, again: boolean): void {
    this.session = undefined;
    for (const task of session.tasks.values()) {
      task.controller.abort(new TaskCancelledError(reason === "closed" ? "closed" : "disconnected"));
    }
    session.tasks.clear();
    if (reason !== "closed") {
      session.queue.close();
      session.socket.close();
    }
    const status: WorkerStatus = { type: "disconnected", reason, willReconnect: again };
    if (message !== undefined) status.message = message;
    this.emit(status);
  }

  private finish(reason: WorkerStopReason, message?: string): void {
    if (this.state === "stopped") return;
    this.state = "stopped";
    clearTimeout(this.timer);
    clearTimeout(this.reconnectTimer);
    if (this.session !== undefined) this.endSession(this.session, reason, message, false);
    this.resolveStopped(reason);
  }

  private async receive(session: Session): Promise<void> {
    try {
      for await (const frames of session.socket) {
        if (this.session !== session) return;
        session.lastReceived = Date.now();
        this.onFrames(session, frames);
      }
    } catch (error) {
      // Closing a socket rejects its pending receive: expected whenever the session was replaced.
      if (this.session === session) {
        this.logger.warn("worker-receive-failed", { error: errorMessage(error) });
        this.reconnect(session, "connection-lost", errorMessage(error));
      }
    }
  }

  private onFrames(session: Session, frames: Frame[]): void {
    let msg: BrokerToWorker;
    try {
      msg = decodeToWorker(frames);
    } catch (error) {
      // A broker speaking garbage: log it and carry on; heartbeats decide whether the broker is alive.
      this.logger.warn("worker-malformed-message", { error: errorMessage(error), code: errorCode(error) });
      return;
    }
    // Any message but DISCONNECT after READY means the broker took us (it normally sends HEARTBEAT at once).
    if (!session.accepted && msg.type !== "disconnect") {
      session.accepted = true;
      this.backoff.reset();
      if (msg.type === "heartbeat") this.brokerHeartbeat = msg.interval;
      this.logger.info("worker-ready", { name: this.name, brokerHeartbeat: this.brokerHeartbeat });
      this.emit({ type: "ready", brokerHeartbeat: this.brokerHeartbeat });
    }
    switch (msg.type) {
      case "heartbeat":
        if (this.brokerHeartbeat !== msg.interval) {
          this.brokerHeartbeat = msg.interval;
          this.schedule();
        }
        return;
      case "task":
        this.onTask(session, msg);
        return;
      case "cancel":
        this.onCancel(session, idKey(msg.task), msg.reason);
        return;
      case "disconnect":
        this.onDisconnect(session, msg.detail);
        return;
      case "legacy-task":
        this.logger.warn("worker-unexpected-message", { type: msg.type });
        return;
      default: {
        const never: never = msg;
        return never;
      }
    }
  }

  private onDisconnect(session: Session, detail: DisconnectDetail | undefined): void {
    const reason = detail?.reason ?? "shutdown";
    this.logger.info("worker-disconnected-by-broker", { reason, message: detail?.message ?? null });
    if (reason === "draining" || reason === "bye") {
      this.finish(reason, detail?.message);
      return;
    }
    this.reconnect(session, reason, detail?.message);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Tasks

  private onTask(session: Session, msg: Extract<BrokerToWorker, { type: "task" }>): void {
    const key = idKey(msg.task);
    if (session.tasks.size >= this.capacity) {
      // The broker must not exceed our capacity (§Capacity); refuse rather than overload, retryable elsewhere.
      this.logger.warn("worker-over-capacity", { task: key, held: session.tasks.size });
      this.send(session, { type: "fail", task: msg.task, message: "worker over capacity", retryable: true });
      return;
    }
    const running: Running = { key, controller: new AbortController() };
    session.tasks.set(key, running);
    const { service, attempt, attempts, timeout } = msg.header;
    this.emit({ type: "task", id: key, service, attempt, attempts, timeout, payload: msg.payload });
    const task: WorkerTask = {
      id: key,
      payload: msg.payload,
      service,
      attempt,
      attempts,
      timeout,
      signal: running.controller.signal,
    };
    let result: Promise<PayloadLike>;
    try {
      result = this.options.handler(task);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (answer) => this.onResult(session, running, msg.task, answer),
      (error: unknown) => this.onHandlerError(session, running, msg.task, error),
    );
  }

  private onCancel(session: Session, key: string, reason: CancelReason): void {
    const running = session.tasks.get(key);
    if (running === undefined) return;
    // The broker freed the slot when it sent CANCEL (§Capacity): free ours now, whatever the handler does.
    session.tasks.delete(key);
    running.cancelled = reason;
    this.emit({ type: "cancelled", id: key, reason });
    running.controller.abort(new TaskCancelledError(reason));
  }

  private onResult(session: Session, running: Running, task: Frame, answer: PayloadLike): void {
    if (this.session !== session) return;
    if (session.tasks.get(running.key) === running) {
      session.tasks.delete(running.key);
    } else if (running.cancelled !== "timeout") {
      // Answered elsewhere or cancelled by the client: nobody wants it. After a timeout it may still win (rule 6).
      return;
    }
    let frames: Frame[];
    try {
      frames = toFrames(answer);
    } catch (error) {
      this.onHandlerError(session, running, task, error);
      return;
    }
    this.send(session, { type: "result", task, payload: frames });
  }

  private onHandlerError(session: Session, running: Running, task: Frame, error: unknown): void {
    if (this.session !== session || session.tasks.get(running.key) !== running) return;
    session.tasks.delete(running.key);
    const message = truncateUtf8(errorMessage(error), MAX_FAIL_MESSAGE);
    const retryable = isRetryable(error);
    this.logger.debug("worker-task-failed", { task: running.key, message, retryable });
    this.send(session, { type: "fail", task, message, retryable });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Sending, heartbeats and broker liveness (§Worker: HEARTBEAT)

  private send(session: Session, msg: WorkerMessage): void {
    session.lastSent = Date.now();
    session.queue.post(encodeWorker(msg), (error) => {
      if (this.session === session) this.logger.warn("worker-send-failed", { type: msg.type, error: errorMessage(error) });
    });
  }

  /** Until the broker announces its interval, ours stands in for it (a broker that never answers READY is dead). */
  private get brokerInterval(): number {
    return this.brokerHeartbeat ?? this.heartbeat;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const session = this.session;
    if (session === undefined || this.state !== "running") return;
    const due = Math.min(session.lastSent + this.heartbeat, session.lastReceived + LIVENESS * this.brokerInterval);
    this.timer = setTimeout(() => this.tick(), Math.max(5, due - Date.now()));
  }

  private tick(): void {
    const session = this.session;
    if (session === undefined || this.state !== "running") return;
    const now = Date.now();
    if (now - session.lastReceived >= LIVENESS * this.brokerInterval) {
      this.logger.warn("worker-broker-silent", { silentMs: now - session.lastReceived });
      this.reconnect(session, "broker-silent");
      return;
    }
    if (now - session.lastSent >= this.heartbeat) this.send(session, { type: "heartbeat", interval: this.heartbeat });
    this.schedule();
  }
}

function checkRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${value}`);
  }
}

function errorCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
