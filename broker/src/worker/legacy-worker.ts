/**
 * The 2010 prototype's worker protocol (protocol/spec.md §Legacy worker): a REQ socket on the workers endpoint asks
 * for one task at a time with any single frame, the answer goes out on a PUSH socket to the answers endpoint as
 * `task-id answer*`. There is no FAIL: a handler that throws (or returns null) simply never answers, and the broker
 * retries after its attempt timeout — exactly what the prototype's workers did.
 *
 * One addition the wire allows: when libzmq reports the REQ connection gone while we wait for a task, the request
 * died with the connection (a restarted broker never saw it), so a new REQ socket asks again after the back-off.
 */
import { Push, Request } from "zeromq";
import { encodeAnswer } from "../codec";
import type { Frame } from "../protocol/messages";
import { Backoff, type BackoffOptions } from "../peer/backoff";
import { idKey, toFrames, utf8, type PayloadLike } from "../peer/frames";
import { silentLogger, type PeerLogger } from "../peer/logger";
import { SendQueue } from "../peer/send-queue";
import { applyClientSecurity, type PeerKeys } from "../security/curve-client";
import { errorMessage, TaskCancelledError } from "./errors";
import { StatusEvents } from "./status";

export interface LegacyTask {
  /** The task id as a latin1 string (see WorkerTask.id). */
  id: string;
  payload: Uint8Array[];
  /** Aborted when the worker closes. */
  signal: AbortSignal;
}

/** Resolve with the answer; resolve null or throw to send no answer (the broker retries after its timeout). */
export type LegacyTaskHandler = (task: LegacyTask) => Promise<PayloadLike | null>;

export interface LegacyWorkerOptions {
  /** The broker's workers endpoint (REQ connects here). */
  workers: string;
  /** The broker's answers endpoint (PUSH connects here). */
  answers: string;
  handler: LegacyTaskHandler;
  /** The request-for-work frame; default "requesting task", as the prototype sent. */
  readyFrame?: string;
  reconnect?: BackoffOptions;
  logger?: PeerLogger;
  /** CURVE (protocol/spec.md §Security): this worker's key pair (for both sockets) and the broker's public key; default: none. */
  curve?: PeerKeys;
}

const ANSWER_LINGER_MS = 1000;

export class LegacyWorker extends StatusEvents {
  readonly stopped: Promise<void>;

  private readonly backoff: Backoff;
  private readonly logger: PeerLogger;
  private readonly ready: Frame;
  private readonly push = new Push({ linger: ANSWER_LINGER_MS });
  private readonly answers = new SendQueue(this.push);
  private req: Request | undefined;
  private readonly controller = new AbortController();
  private running = false;
  private reconnects = 0;
  private resolveStopped!: () => void;

  constructor(private readonly options: LegacyWorkerOptions) {
    super();
    this.backoff = new Backoff(options.reconnect);
    this.logger = options.logger ?? silentLogger;
    this.ready = utf8(options.readyFrame ?? "requesting task");
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  /** Connects both sockets and starts asking for tasks. Throws at once if an endpoint is invalid. */
  start(): void {
    if (this.running) throw new Error("worker already started");
    try {
      if (this.options.curve) applyClientSecurity(this.push, this.options.curve);
      this.push.connect(this.options.answers);
      this.req = this.openRequest();
    } catch (error) {
      this.push.close();
      this.resolveStopped();
      throw error;
    }
    this.running = true;
    void this.loop();
  }

  /** Stops asking; a task being answered gets up to a second to leave on the PUSH socket. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.controller.abort(new TaskCancelledError("closed"));
    this.req?.close();
    this.req = undefined;
    this.answers.close();
    this.push.close();
    this.emit({ type: "disconnected", reason: "closed", willReconnect: false });
    this.resolveStopped();
  }

  private openRequest(): Request {
    const req = new Request({ linger: 0 });
    if (this.options.curve) applyClientSecurity(req, this.options.curve);
    // Subscribe before connecting: libzmq's monitor does not replay events that happened before it existed.
    req.events.on("connect", () => {
      if (this.req === req) this.emit({ type: "connected", endpoint: this.options.workers });
    });
    req.events.on("disconnect", () => {
      if (this.req === req && this.running) {
        this.emit({ type: "disconnected", reason: "connection-lost", willReconnect: true });
        // Closing makes the pending receive reject; the loop then asks again on a new socket.
        this.req = undefined;
        req.close();
      }
    });
    try {
      req.connect(this.options.workers);
    } catch (error) {
      req.close();
      throw error;
    }
    return req;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const req = this.req ?? (await this.reopen());
      if (req === undefined) return;
      let frames: Frame[];
      try {
        await req.send(this.ready);
        frames = await req.receive();
      } catch (error) {
        if (this.running && this.req === req) {
          this.logger.warn("legacy-worker-receive-failed", { error: errorMessage(error) });
          this.req = undefined;
          req.close();
        }
        continue;
      }
      this.backoff.reset();
      const [task, ...payload] = frames;
      if (task === undefined || task.length === 0) {
        this.logger.warn("legacy-worker-malformed-task", { frames: frames.length });
        continue;
      }
      await this.run(task, payload);
    }
  }

  private async reopen(): Promise<Request | undefined> {
    const wait = this.backoff.next();
    this.reconnects++;
    this.emit({ type: "reconnecting", delay: wait, attempt: this.reconnects });
    await new Promise((resolve) => setTimeout(resolve, wait));
    if (!this.running) return undefined;
    this.req = this.openRequest();
    return this.req;
  }

  private async run(task: Frame, payload: Frame[]): Promise<void> {
    const id = idKey(task);
    this.emit({ type: "task", id, service: "default", attempt: null, attempts: null, timeout: null, payload });
    let answer: PayloadLike | null;
    try {
      answer = await this.options.handler({ id, payload, signal: this.controller.signal });
    } catch (error) {
      this.logger.debug("legacy-worker-task-failed", { task: id, error: errorMessage(error) });
      return;
    }
    if (answer === null || !this.running) return;
    this.answers.post(encodeAnswer({ type: "legacy-answer", task, payload: toFrames(answer) }), (error) =>
      this.logger.warn("legacy-worker-answer-failed", { task: id, error: errorMessage(error) }),
    );
  }
}
