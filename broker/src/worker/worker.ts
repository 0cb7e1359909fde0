/**
 * The modern worker (protocol/spec.md §Worker <-> broker): a DEALER that sends READY, runs up to `capacity` tasks at
 * once, answers RESULT or FAIL, heartbeats when idle and watches the broker's heartbeats.
 *
 * Connection life cycle: every (re)connection is a NEW socket (so a new routing id on the broker) followed by READY.
 * Reconnects, with back-off, happen when the broker falls silent for 3 of its announced intervals, when libzmq reports
 * the connection gone, and on DISCONNECT {unknown-worker | protocol-error | shutdown} (a restarted broker gets the
 * worker back). DISCONNECT {draining | bye} stops the worker: the broker asked it to leave. `leave()` leaves without
 * losing work (§Leaving without losing work).
 * Tasks still running when a connection ends are aborted and their results dropped: the broker has re-queued them.
 * The rules themselves (heartbeats, liveness, slots, EXTEND timing) live in session-rules.ts; this is their I/O shell.
 */
import { Dealer } from "zeromq";
import { decodeToWorker, encodeWorker, salvageToWorker } from "../codec";
import { CAPACITY, HEARTBEAT, MAX_FAIL_MESSAGE, MAX_NAME, MAX_SERVICES, MAX_TIMEOUT } from "../protocol/limits";
import type { BrokerToWorker, CancelReason, DisconnectDetail, Frame, WorkerMessage } from "../protocol/messages";
import { Backoff, type BackoffOptions } from "../peer/backoff";
import { idFrame, idKey, toFrames, type PayloadLike } from "../peer/frames";
import { silentLogger, type PeerLogger } from "../peer/logger";
import { SendQueue } from "../peer/send-queue";
import { applyClientSecurity, type PeerKeys } from "../security/curve-client";
import { errorMessage, isRetryable, TaskCancelledError, truncateUtf8 } from "./errors";
import { extendDue, Liveness, Slots } from "./session-rules";
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
  /** EXTEND this attempt's deadline to now + `ms` (1..MAX_TIMEOUT); false once the task is no longer held. */
  extend(ms: number): boolean;
  /**
   * Keep this attempt alive while the handler works, as §Worker protocol rule 4 advises: EXTEND by the task's
   * `timeout` each time half of it has passed. Does nothing for a task without a deadline. Stops when the task ends.
   */
  keepAlive(): void;
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

/** Why `stopped` resolved: `left` after `leave()` (or a broker too old for it), else as named. */
export type WorkerStopReason = "closed" | "draining" | "bye" | "left";

interface Running {
  readonly key: string;
  readonly task: Frame;
  readonly controller: AbortController;
  /** Set when CANCEL arrived: the slot is free and the result only matters after a timeout (first answer wins). */
  cancelled?: CancelReason;
  /** keepAlive(): the EXTEND timer. */
  extendTimer?: NodeJS.Timeout;
}

interface Session {
  readonly socket: Dealer;
  readonly queue: SendQueue;
  readonly slots: Slots<Running>;
  readonly liveness: Liveness;
}

const DISCONNECT_GRACE_MS = 500;
/** `leave()`'s default: how long held tasks may run on before they are given back. */
export const LEAVE_GRACE_MS = 10_000;

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
  private leaving: { timer: NodeJS.Timeout; done: () => void } | undefined;
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
    return this.session?.slots.size ?? 0;
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
    checkRange("extend timeout", ms, 1, MAX_TIMEOUT);
    const session = this.session;
    if (session === undefined || session.slots.get(taskId) === undefined) return false;
    this.send(session, { type: "extend", task: idFrame(taskId), timeout: ms });
    return true;
  }

  /**
   * Leaves without losing work (§Leaving without losing work): announces DISCONNECT bye+finish, lets held tasks finish
   * for up to `graceMs`, gives back what is left (and any TASK that crossed the announcement) with FAIL returned,
   * then says bye and closes. Resolves when the worker has stopped; `stopped` resolves with "left".
   */
  async leave(graceMs: number = LEAVE_GRACE_MS): Promise<void> {
    const session = this.session;
    if (this.state !== "running" || this.leaving !== undefined) return this.stopped.then(() => undefined);
    if (session === undefined) {
      this.finish("left");
      return;
    }
    this.logger.info("worker-leaving", { held: session.slots.size, graceMs });
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      this.leaving = { timer, done: resolve };
      this.send(session, { type: "disconnect", detail: { reason: "bye", finish: true } });
      if (session.slots.size === 0) resolve();
    });
    clearTimeout(timer);
    const last = this.session;
    if (this.state !== "running" || last === undefined) return;
    for (const [key, running] of last.slots.runs()) this.giveBack(last, key, running);
    await this.part(last, "left");
  }
  /** Graceful stop: aborts running handlers, sends DISCONNECT {bye} so the broker re-queues at once, closes. */
  async close(): Promise<void> {
    if (this.state === "stopped") return;
    const session = this.session;
    if (session === undefined) {
      this.finish("closed");
      return;
    }
    await this.part(session, "closed");
  }

  /** Stops for good after a last DISCONNECT bye, with a short linger so that bye is not discarded (§Reconnecting). */
  private async part(session: Session, reason: WorkerStopReason): Promise<void> {
    this.finish(reason);
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
    const session: Session = {
      socket,
      queue: new SendQueue(socket),
      slots: new Slots<Running>(this.capacity, this.services),
      liveness: new Liveness(this.heartbeat, Date.now()),
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
    if (this.leaving !== undefined) {
      // Leaving: the broker has re-queued what we held (worker lost); do not come back.
      this.finish("left", message);
      return;
    }
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
    for (const [, task] of session.slots.runs()) {
      clearInterval(task.extendTimer);
      task.controller.abort(new TaskCancelledError(reason === "closed" || reason === "left" ? "closed" : "disconnected"));
    }
    session.slots.clear();
    if (reason !== "closed" && reason !== "left") {
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
    if (this.leaving !== undefined) {
      clearTimeout(this.leaving.timer);
      this.leaving.done();
    }
    if (this.session !== undefined) this.endSession(this.session, reason, message, false);
    this.resolveStopped(reason);
  }

  private async receive(session: Session): Promise<void> {
    try {
      for await (const frames of session.socket) {
        if (this.session !== session) return;
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
    const liveness = session.liveness;
    // Anything from the broker, even malformed, proves it alive (§Heartbeating rule 2).
    const first = liveness.received(Date.now());
    try {
      msg = decodeToWorker(frames);
    } catch (error) {
      // §JSON members: a CANCEL or DISCONNECT with a reason of a later revision (or unreadable JSON) still acts.
      const salvaged = salvageToWorker(frames);
      this.logger.warn("worker-malformed-message", { error: errorMessage(error), code: errorCode(error), read: salvaged?.type ?? null });
      if (salvaged === undefined) return;
      msg = salvaged;
    }
    if (msg.type === "heartbeat" && !liveness.announced(msg.interval) && liveness.broker !== msg.interval) {
      this.logger.warn("worker-broker-interval-ignored", { interval: msg.interval });
    }
    // Any message but DISCONNECT after READY means the broker took us (it normally sends HEARTBEAT at once);
    // an out-of-range interval counts too (§Heartbeating rule 5).
    if (first && msg.type !== "disconnect") {
      this.backoff.reset();
      this.logger.info("worker-ready", { name: this.name, brokerHeartbeat: liveness.broker });
      this.emit({ type: "ready", brokerHeartbeat: liveness.broker });
    }
    this.schedule();
    switch (msg.type) {
      case "heartbeat":
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
    // Leaving, the worker does not come back; a protocol-error here is a broker before 1.1 refusing `finish`.
    if (this.leaving !== undefined) {
      this.finish("left", detail?.message);
      return;
    }
    if (reason === "protocol-error") {
      this.logger.error("worker-protocol-error", { message: detail?.message ?? null });
      this.backoff.undoReset();
    }
    this.reconnect(session, reason, detail?.message);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Tasks
  private onTask(session: Session, msg: Extract<BrokerToWorker, { type: "task" }>): void {
    const key = idKey(msg.task);
    const { service, attempt, attempts, timeout } = msg.header;
    const admission = session.slots.admit(key, service);
    switch (admission.action) {
      case "not-served":
        // §Worker protocol rule 7: answer it, retryable, so it runs elsewhere.
        this.logger.warn("worker-service-not-served", { task: key, service });
        this.send(session, { type: "fail", task: msg.task, message: `service ${service} is not served by this worker`, retryable: true });
        return;
      case "duplicate":
        // Rule 6: the broker sends CANCEL before the same id again; keep the run we have and answer once.
        this.logger.warn("worker-duplicate-task", { task: key });
        return;
      case "over-capacity":
        // The broker must not exceed our capacity (§Capacity); refuse rather than overload, retryable elsewhere.
        this.logger.warn("worker-over-capacity", { task: key, held: session.slots.size });
        this.send(session, { type: "fail", task: msg.task, message: "worker over capacity", retryable: true });
        return;
      case "run":
        if (admission.abandon !== undefined) this.stopRun(admission.abandon, "replaced");
        break;
      default:
        return admission satisfies never;
    }
    if (this.leaving !== undefined) {
      // It crossed our announcement: give it back, no attempt counted (§Leaving without losing work).
      this.send(session, { type: "fail", task: msg.task, message: "worker leaving", retryable: true, returned: true });
      return;
    }
    const running: Running = { key, task: msg.task, controller: new AbortController() };
    session.slots.take(key, running);
    this.emit({ type: "task", id: key, service, attempt, attempts, timeout, payload: msg.payload });
    const task: WorkerTask = {
      id: key,
      payload: msg.payload,
      service,
      attempt,
      attempts,
      timeout,
      signal: running.controller.signal,
      extend: (ms) => this.session === session && session.slots.get(key) === running && this.extend(key, ms),
      keepAlive: () => this.keepAlive(session, running, timeout),
    };
    let result: Promise<PayloadLike>;
    try {
      result = this.options.handler(task);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (answer) => this.onResult(session, running, answer),
      (error: unknown) => this.onHandlerError(session, running, error),
    );
  }

  /** Rule 4's guidance: EXTEND by the task's own timeout each time half of it has passed, while the run holds its slot. */
  private keepAlive(session: Session, running: Running, timeout: number | null): void {
    if (timeout === null || running.extendTimer !== undefined) return;
    const every = (extendDue(0, timeout) ?? timeout) || 1;
    running.extendTimer = setInterval(() => {
      if (this.session !== session || session.slots.get(running.key) !== running) {
        clearInterval(running.extendTimer);
        return;
      }
      this.send(session, { type: "extend", task: running.task, timeout });
    }, every);
  }

  private stopRun(running: Running, reason: "replaced" | "given-back" | CancelReason): void {
    clearInterval(running.extendTimer);
    running.controller.abort(new TaskCancelledError(reason));
  }

  private onCancel(session: Session, key: string, reason: CancelReason): void {
    // The broker freed the slot when it sent CANCEL (§Capacity): free ours now, whatever the handler does. After a
    // timeout the run lingers: its answer may still win (rule 5), until the same id arrives again (rule 6).
    const running = session.slots.cancel(key, reason === "timeout");
    if (running === undefined) return;
    running.cancelled = reason;
    this.emit({ type: "cancelled", id: key, reason });
    this.stopRun(running, reason);
    this.leftHolding(session);
  }

  /** A leaving worker gives a held task back: FAIL returned, the attempt is not counted. */
  private giveBack(session: Session, key: string, running: Running): void {
    if (!session.slots.finished(key, running)) return;
    this.stopRun(running, "given-back");
    this.send(session, { type: "fail", task: running.task, message: "worker leaving", retryable: true, returned: true });
  }

  private onResult(session: Session, running: Running, answer: PayloadLike): void {
    clearInterval(running.extendTimer);
    if (this.session !== session) return;
    // Answered elsewhere or cancelled by the client, or replaced: nobody wants it. After a timeout it may still win.
    if (!session.slots.finished(running.key, running)) return;
    let frames: Frame[];
    try {
      frames = toFrames(answer);
    } catch (error) {
      this.failRun(session, running, error);
      return;
    }
    this.send(session, { type: "result", task: running.task, payload: frames });
    this.leftHolding(session);
  }

  private onHandlerError(session: Session, running: Running, error: unknown): void {
    clearInterval(running.extendTimer);
    if (this.session !== session || session.slots.get(running.key) !== running) return;
    session.slots.finished(running.key, running);
    this.failRun(session, running, error);
  }

  private failRun(session: Session, running: Running, error: unknown): void {
    const message = truncateUtf8(errorMessage(error), MAX_FAIL_MESSAGE);
    const retryable = isRetryable(error);
    this.logger.debug("worker-task-failed", { task: running.key, message, retryable });
    this.send(session, { type: "fail", task: running.task, message, retryable });
    this.leftHolding(session);
  }

  /** While leaving: once nothing is held, the grace period ends early. */
  private leftHolding(session: Session): void {
    if (this.leaving !== undefined && session.slots.size === 0) this.leaving.done();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Sending, heartbeats and broker liveness (§Heartbeating; the rules are session-rules.ts's Liveness)

  private send(session: Session, msg: WorkerMessage): void {
    session.liveness.sent(Date.now());
    session.queue.post(encodeWorker(msg), (error) => {
      if (this.session === session) this.logger.warn("worker-send-failed", { type: msg.type, error: errorMessage(error) });
    });
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const session = this.session;
    if (session === undefined || this.state !== "running") return;
    this.timer = setTimeout(() => this.tick(), Math.max(5, session.liveness.nextDeadline() - Date.now()));
  }

  private tick(): void {
    const session = this.session;
    if (session === undefined || this.state !== "running") return;
    const due = session.liveness.due(Date.now());
    if (due.action === "dead") {
      this.logger.warn("worker-broker-silent", { silentMs: due.silentMs });
      this.reconnect(session, "broker-silent");
      return;
    }
    if (due.action === "heartbeat") this.send(session, { type: "heartbeat", interval: this.heartbeat });
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
