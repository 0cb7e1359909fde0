/**
 * The enveloped client (protocol/spec.md §Client <-> broker, enveloped mode) over a DEALER socket: many requests in
 * flight at once, each REQUEST carrying a correlation id that the REPLY echoes.
 *
 * Client-side deadline: the broker answers every accepted request exactly once, but a broker that is gone answers
 * nothing, so every request also has a local deadline. Default: 30 s, or timeout x attempts + 5 s when the request
 * sets both and that is longer, or the broker deadline + 1 s when the request sets one (protocol/spec.md §Request
 * deadlines: the broker then answers failed/expired in time, and the local deadline only guards against a dead
 * broker). On expiry the request rejects with ClientTimeoutError and a best-effort CANCEL tells the broker to stop
 * working on it.
 *
 * Several endpoints (protocol/spec.md §Failing over): the client talks to one broker at a time and moves to the next
 * in turn when that one is judged gone, sending every request in flight again. Every request then carries an
 * idempotency key (a generated one when the caller gives none), so a broker that shares its queue with the dead one
 * attaches the resend to the running task or answers it from the kept results instead of running it again; the
 * deadline covers the whole request, failovers included.
 */
import { randomUUID } from "node:crypto";
import { decodeClientReply, encodeClient } from "../codec";
import type { BrokerLimits, FailureReason, Frame, ReplyDetail, RequestOptions } from "../protocol/messages";
import { toFrames, type PayloadLike } from "../peer/frames";
import { silentLogger, type PeerLogger } from "../peer/logger";
import type { PeerKeys } from "../security/curve-client";
import { ClientConnection } from "./connection";
import { ClientAbortedError, ClientClosedError } from "./errors";
import type { ClientStats } from "./pending";
import { MAX_CORRELATION_ID, MAX_KEY } from "../protocol/limits";

export interface ClientOptions {
  /**
   * The broker's clients endpoint, e.g. tcp://localhost:4161; or several brokers' endpoints, tried in this order, to
   * fail over between (protocol/spec.md §Failing over).
   */
  endpoint: string | readonly string[];
  /** Default client-side deadline in ms (see the module comment); default 30000. */
  deadline?: number;
  /** How long an aborted request waits for the broker's `cancelled` reply before rejecting; default 1000 ms. */
  cancelWait?: number;
  logger?: PeerLogger;
  /** CURVE (protocol/spec.md §Security): this peer's key pair and the broker's public key; default: none. */
  curve?: PeerKeys;
  /**
   * ZMQ_ROUTING_ID of the socket (1..255 octets, not starting with a zero octet). With one, a durable broker that
   * restarts delivers the replies of requests it had accepted once this client has reconnected, with no resend
   * (protocol/spec.md §Durability). Two clients must never share one.
   */
  routingId?: string;
  /** With several endpoints: how a broker is judged gone. Ignored with one endpoint. */
  failover?: FailoverOptions;
}

/** protocol/spec.md §Failing over; the defaults suit brokers on a LAN. */
export interface FailoverOptions {
  /** ms from connecting to a completed ZMTP handshake before the broker is judged unreachable; default 2000. */
  connectTimeout?: number;
  /**
   * ZMTP heartbeat interval in ms (ZMQ_HEARTBEAT_IVL): libzmq PINGs the broker, which answers below the application;
   * a broker silent for `heartbeatTimeout` (ZMQ_HEARTBEAT_TIMEOUT) is judged gone. Defaults 1000 and 3000; an
   * interval of 0 turns heartbeats off (then only a dropped connection is noticed).
   */
  heartbeatInterval?: number;
  heartbeatTimeout?: number;
}

export interface RequestCallOptions {
  /** Default "default". */
  service?: string;
  /** Per-attempt timeout in ms (clamped by the broker's -T). */
  timeout?: number;
  /** Max attempts (clamped by the broker's -t). */
  attempts?: number;
  /** Correlation id (<= 128 characters); generated when absent. */
  id?: string;
  /** Aborting sends CANCEL; the promise then resolves with the broker's reply (normally failed/cancelled). */
  signal?: AbortSignal;
  /** Client-side deadline in ms for this request. */
  deadline?: number;
  /**
   * The broker's deadline for this request in ms (REQUEST `deadline`, protocol/spec.md §Request deadlines): the most
   * time from acceptance to the reply, queue wait included; past it the reply is failed/expired, with a message that
   * says when no worker serves the service. Clamped by the broker's `--deadline`.
   */
  brokerDeadline?: number;
  /**
   * Idempotency key (1..128 characters, protocol/spec.md §Idempotent requests): while the broker holds a task with
   * this key and service, or keeps its result, another request with the key gets that task's reply instead of a new
   * task — so resending after a deadline or a broker crash runs the work once. A keyed request is not cancelled when
   * its deadline passes (a resend is meant to find it); aborting it with `signal` cancels it for every request
   * attached to it. With several endpoints a request without one gets a generated key.
   */
  key?: string;
}

export interface Reply {
  status: "succeeded" | "failed";
  reason?: FailureReason;
  message?: string;
  /** Attempts the broker made. */
  attempts: number;
  /** The worker that answered (or ran the last attempt). */
  worker?: string;
  /** ms from the broker accepting the request to its reply. */
  elapsed: number;
  task?: string;
  /** The correlation id. */
  id: string;
  /** Codec error code when reason is "malformed". */
  error?: string;
  /**
   * True when an earlier task with the same key answered (no task was created for this request): after a failover,
   * the broker found the task the first send created.
   */
  duplicate?: boolean;
  /** The broker's limits, in the reply to `limits()`. */
  limits?: BrokerLimits;
  payload: Uint8Array[];
}

const EMPTY: Frame = new Uint8Array(0);
const DEFAULT_DEADLINE_MS = 30_000;
const DEADLINE_MARGIN_MS = 5_000;
/** How much longer than a broker deadline the client waits for the broker's failed/expired reply. */
const BROKER_DEADLINE_MARGIN_MS = 1_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 3_000;

export class Client {
  readonly stats: ClientStats;

  private readonly connection: ClientConnection<Reply>;

  /** Connects to the (first) endpoint at once; throws if it is invalid (libzmq's EINVAL) or none is given. */
  constructor(private readonly options: ClientOptions) {
    const endpoints = typeof options.endpoint === "string" ? [options.endpoint] : [...options.endpoint];
    const failover = options.failover ?? {};
    const watch = {
      connectTimeout: failover.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
      heartbeatInterval: failover.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      heartbeatTimeout: failover.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
    };
    this.connection = new ClientConnection(
      { endpoints, curve: options.curve, routingId: options.routingId, watch },
      options.logger ?? silentLogger,
      "client",
      (frames) => this.onFrames(frames),
    );
    this.stats = this.connection.stats;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.connection.inFlight;
  }

  /** The broker in use: the one endpoint, or with several the one failover has reached. */
  get endpoint(): string {
    return this.connection.endpoint;
  }

  request(payload: PayloadLike, options: RequestCallOptions = {}): Promise<Reply> {
    const id = options.id ?? this.connection.ids.next();
    if (this.connection.closed) return Promise.reject(new ClientClosedError(id));
    if (id.length < 1 || id.length > MAX_CORRELATION_ID) return Promise.reject(new RangeError(`request id must be 1..${MAX_CORRELATION_ID} characters`));
    if (this.connection.has(id)) return Promise.reject(new RangeError(`request id ${id} is already in flight`));
    // Failing over resends: without a key, a broker sharing the dead one's queue would run the work again.
    const key = options.key ?? (this.connection.failsOver ? randomUUID() : undefined);
    if (key !== undefined && (key.length < 1 || key.length > MAX_KEY)) return Promise.reject(new RangeError(`key must be 1..${MAX_KEY} characters`));
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(new ClientAbortedError(id, { cause: signal.reason }));

    const brokerDeadline = options.brokerDeadline;
    if (brokerDeadline !== undefined && !(Number.isSafeInteger(brokerDeadline) && brokerDeadline >= 1)) {
      return Promise.reject(new RangeError("brokerDeadline must be an integer number of ms >= 1"));
    }
    const deadline = options.deadline ?? (brokerDeadline === undefined ? this.defaultDeadline(options) : brokerDeadline + BROKER_DEADLINE_MARGIN_MS);
    const encode = (): Frame[] => {
      const requestOptions: RequestOptions = { id };
      if (options.service !== undefined) requestOptions.service = options.service;
      if (options.timeout !== undefined) requestOptions.timeout = options.timeout;
      if (options.attempts !== undefined) requestOptions.attempts = options.attempts;
      if (key !== undefined) requestOptions.key = key;
      if (brokerDeadline !== undefined) requestOptions.deadline = brokerDeadline;
      return encodeClient({ type: "request", path: [EMPTY], options: requestOptions, payload: toFrames(payload) });
    };
    const cancel = (): void => this.connection.post(encodeClient({ type: "cancel", path: [EMPTY], id }));
    return this.connection.request(id, encode, {
      deadline,
      signal,
      cancel,
      // A keyed request outlives its deadline at the broker: the resend that follows attaches to it.
      ...(key === undefined ? {} : { cancelAtDeadline: false }),
      abortWait: this.options.cancelWait ?? 1000,
    });
  }

  /**
   * Asks the broker for its limits (REQUEST `limits`, protocol/spec.md §Limits discovery): -T, -t, --deadline,
   * --max-queue, --keep-results and the message bounds. No task is created. A broker older than ZTB/1.1 answers
   * failed/malformed: the promise then rejects with an Error carrying that reply's message.
   */
  async limits(options: { deadline?: number } = {}): Promise<BrokerLimits> {
    const id = this.connection.ids.next();
    if (this.connection.closed) throw new ClientClosedError(id);
    const encode = (): Frame[] => encodeClient({ type: "request", path: [EMPTY], options: { id, limits: true }, payload: [] });
    const reply = await this.connection.request(id, encode, { deadline: options.deadline ?? this.options.deadline ?? DEFAULT_DEADLINE_MS, cancelAtDeadline: false });
    if (reply.limits === undefined) throw new Error(`the broker did not tell its limits: ${reply.reason ?? reply.status}${reply.message === undefined ? "" : ` (${reply.message})`}`);
    return reply.limits;
  }

  /** Rejects every pending request with ClientClosedError and closes the socket. */
  close(): void {
    this.connection.close();
  }

  private defaultDeadline(options: RequestCallOptions): number {
    const base = this.options.deadline ?? DEFAULT_DEADLINE_MS;
    if (options.timeout === undefined || options.attempts === undefined) return base;
    return Math.max(base, options.timeout * options.attempts + DEADLINE_MARGIN_MS);
  }

  private onFrames(frames: Frame[]): void {
    let detail: ReplyDetail;
    let payload: Frame[];
    try {
      const msg = decodeClientReply(frames);
      if (msg.type !== "reply") throw new Error("plain reply on an enveloped client");
      detail = msg.detail;
      payload = msg.payload;
    } catch (error) {
      this.connection.malformed(error);
      return;
    }
    // A copy sent again after a broker restart, of a reply this client already had: not a duplicate, just dropped.
    if (detail.resent === true && detail.id !== undefined && !this.connection.has(detail.id)) {
      this.stats.resent++;
      return;
    }
    this.connection.answer(detail.id, (id) => toReply(id, detail, payload));
  }
}

function toReply(id: string, detail: ReplyDetail, payload: Frame[]): Reply {
  const reply: Reply = { status: detail.status, attempts: detail.attempts, elapsed: detail.elapsed, id, payload };
  if (detail.reason !== undefined) reply.reason = detail.reason;
  if (detail.message !== undefined) reply.message = detail.message;
  if (detail.worker !== undefined) reply.worker = detail.worker;
  if (detail.task !== undefined) reply.task = detail.task;
  if (detail.error !== undefined) reply.error = detail.error;
  if (detail.duplicate === true) reply.duplicate = true;
  if (detail.limits !== undefined) reply.limits = detail.limits;
  return reply;
}
