/**
 * The broker's socket shell: binds the four endpoints (protocol/spec.md §Peers and endpoints), feeds decoded messages
 * and the clock to the sans-I/O core, performs the core's outputs in order, and drives its one deadline timer.
 * Every scheduling rule lives in the core; this file only moves bytes and time.
 */
import { randomBytes } from "node:crypto";
import type { Pull } from "zeromq";
import type { BrokerCoreApi, ClusterEvent, ClusterRequest, CoreConfig, Endpoint, Input, Output, SchedulingConfig } from "../core/api";
import type { AdminReply, ConnectionCounts, FsyncPolicy } from "../protocol/messages";
import { BrokerCore } from "../core/broker-core";
import { budgetProblem, type OctetBounds, octetBounds } from "../core/memory-budget";
import { MEMORY_SAMPLE_MS, MemorySampler } from "./memory-sampler";
import { encodeAdminReply, encodeClientReply, encodeToWorker, PEER_GONE_FRAME } from "../codec";
import { type AllowListSizes, applyServerSecurity, type BrokerSecurity } from "../security";
import { BindError, BudgetError } from "./bind-error";
import { DeadlineTimer } from "./deadline-timer";
import { GroupCommit, type JournalStore } from "./group-commit";
import { Logger } from "./logger";
import { routingId, showPeer } from "./peer-keys";
import { adminInput, answerInput, clientInput, connectNotice, type Decoded, receiveLoop, workerInput } from "./receive-loops";
import { Revocation } from "./revocation";
import { ConnectionCounter } from "./connection-counts";
import { SendBudget, type SendCounters, SendQueue, errorMessage } from "./send-queue";
import { createPull, createRouter, type NotifyingRouter, watchAcceptFailures } from "./sockets";
import { RateLimitedLog } from "./rate-limited-log";
import { DEFAULT_MAX_FRAMES, type MessageBounds } from "../protocol/limits";

export interface EndpointSet {
  clients: string;
  workers: string;
  answers: string;
  /** null = no admin endpoint. */
  admin: string | null;
}

/** The core's limits and policies (tries, timeout, heartbeat, maxQueue, history, services: see CoreConfig), plus the shell's. */
export interface BrokerServerOptions extends SchedulingConfig {
  endpoints: EndpointSet;
  /** The largest whole message accepted, in octets (§Limits); also every socket's ZMQ_MAXMSGSIZE (a per-frame bound). */
  maxMessage: number;
  /** The most frames one message may have (§Limits); DEFAULT_MAX_FRAMES when absent. */
  maxFrames?: number;
  /**
   * Octets the send queues may hold for one peer beyond libzmq's own (§Limits); when absent, DEFAULT_MAX_UNSENT or,
   * with `maxMemory`, its share of the budget (core/memory-budget.ts).
   */
  maxUnsent?: number;
  /** Octets the send queues may hold for all peers together; when absent as `maxUnsent`. */
  maxUnsentTotal?: number;
  version: string;
  logger?: Logger;
  /** Task id prefix; random by default (tests may fix it). */
  bootNonce?: string;
  /** For tests: another core behind the same shell. */
  createCore?: (config: CoreConfig, startedAt: number) => BrokerCoreApi;
  /**
   * CURVE (protocol/spec.md §Security): every socket becomes a CURVE server whose peers the ZAP handler checks against
   * its endpoint's allow-list. The caller starts it before `start` and closes it after `close`.
   */
  security?: BrokerSecurity;
  /**
   * Durable mode (protocol/spec.md §Durability): the opened journal. The server recovers the core from it before the
   * first message, commits every turn's records before that turn's sends, and closes it at `close`. Task ids then use
   * the journal's prefix, not `bootNonce`.
   */
  journal?: { store: JournalStore; fsync: FsyncPolicy; crashAfterCommits?: number };
  /** `--max-memory`: the core sheds load near it; the shell samples the resident memory every MEMORY_SAMPLE_MS. */
  maxMemory?: number;
  /**
   * Cluster mode (protocol/spec.md §Cluster mode): the cluster's name, this broker's id in it, and a function that
   * starts the driver with the function it reports events to.
   */
  cluster?: { name: string; broker: string; start: (emit: (event: ClusterEvent) => void) => ClusterShell };
  /** A journal commit failed: nothing more is sent; the owner should report `err` and exit. */
  onJournalFailure?: (err: unknown) => void;
}

/** Cluster mode's I/O half (broker/src/cluster's ClusterDriver): performs the core's requests, reports events. */
export interface ClusterShell {
  perform(request: ClusterRequest): void;
  /** Stops pulling and gives back what it holds. */
  close(): void;
}

/** After `shutdown(grace)`, sockets close at the latest this long after the grace period even if the core has not stopped. */
export const SHUTDOWN_MARGIN_MS = 2000;
/** ZMQ_LINGER at close: long enough to flush the final replies and DISCONNECTs, short enough not to hang an exit. */
export const CLOSE_LINGER_MS = 500;

interface Channel {
  endpoint: Endpoint;
  socket: NotifyingRouter | Pull;
  /** Absent on the PULL socket, which never sends. */
  queue?: SendQueue;
}

export class BrokerServer {
  private channels: Channel[] = [];
  private clientsQueue: SendQueue | undefined;
  private workersQueue: SendQueue | undefined;
  private adminQueue: SendQueue | undefined;
  private core: BrokerCoreApi | undefined;
  private logger = new Logger();
  private readonly timer = new DeadlineTimer(() => this.onDeadline());
  private shutdownStarted = false;
  private closing: Promise<void> | undefined;
  private loops: Promise<void>[] = [];
  private resolveStopped!: () => void;
  /** Resolves when the core reports `stopped` (everything answered after a shutdown). */
  readonly stopped: Promise<void> = new Promise((resolve) => (this.resolveStopped = resolve));
  private bound: EndpointSet | undefined;
  /** Durable mode: holds each turn's sends until its journal records are committed. */
  private commit: GroupCommit | undefined;
  private store: JournalStore | undefined;
  private memorySampler: NodeJS.Timeout | undefined;
  private bounds: OctetBounds | undefined;
  private cluster: ClusterShell | undefined;
  /** With CURVE: connections whose key a reload revoked are no longer served (protocol/spec.md §Security). */
  private revocation: Revocation | undefined;
  private readonly connections = new ConnectionCounter();

  /** The endpoints as bound (ephemeral ports resolved), once `start` has succeeded. */
  get endpoints(): EndpointSet | undefined {
    return this.bound;
  }

  /** The core, the time and the connection counts, for `--metrics` scrapes (views only: nothing is fed to the core). */
  readCore(): { core: BrokerCoreApi; now: number; connections: ConnectionCounts } | undefined {
    return this.core === undefined ? undefined : { core: this.core, now: Date.now(), connections: this.connections.counts() };
  }

  /** The octet bounds in force since `start` (given, or shares of `maxMemory`: core/memory-budget.ts). */
  get octetBounds(): OctetBounds | undefined {
    return this.bounds;
  }

  /** Messages the send queues could not deliver, per endpoint. */
  sendCounters(): Partial<Record<Endpoint, SendCounters>> {
    const counters: Partial<Record<Endpoint, SendCounters>> = {};
    for (const channel of this.channels) if (channel.queue) counters[channel.endpoint] = { ...channel.queue.counters };
    return counters;
  }

  /** Binds every endpoint (throwing `BindError` and closing what was bound on failure), then starts serving. */
  async start(options: BrokerServerOptions): Promise<EndpointSet> {
    if (this.core !== undefined) throw new Error("BrokerServer.start called twice");
    this.logger = options.logger ?? this.logger;
    const inUseAtStart = process.memoryUsage.rss();
    const problem = options.maxMemory === undefined ? undefined : budgetProblem(options.maxMemory, inUseAtStart);
    if (problem !== undefined) throw new BudgetError(problem);
    const octets = octetBounds(options, options.maxMemory, inUseAtStart);
    this.bounds = octets;
    const socketOptions = { maxMessageSize: options.maxMessage, peerGoneFrame: PEER_GONE_FRAME };
    const clients = createRouter({ ...socketOptions, notifyConnect: true });
    // With CURVE every ROUTER reports connects: that is how a connection learns its key (ConnectionKeys).
    const notifyConnect = options.security !== undefined;
    const workers = createRouter({ ...socketOptions, zmtpHeartbeat: options.heartbeat, notifyConnect });
    const answers = createPull(socketOptions);
    const admin = options.endpoints.admin === null ? undefined : createRouter({ ...socketOptions, notifyConnect });
    const budget = new SendBudget(octets.maxUnsent, octets.maxUnsentTotal);
    this.clientsQueue = new SendQueue(clients, "clients", this.logger, budget);
    this.workersQueue = new SendQueue(workers, "workers", this.logger, budget);
    this.adminQueue = admin && new SendQueue(admin, "admin", this.logger, budget);
    this.channels = [
      { endpoint: "clients", socket: clients, queue: this.clientsQueue },
      { endpoint: "workers", socket: workers, queue: this.workersQueue },
      { endpoint: "answers", socket: answers },
    ];
    if (admin) this.channels.push({ endpoint: "admin", socket: admin, queue: this.adminQueue });

    if (options.security) {
      for (const c of this.channels) applyServerSecurity(c.socket, c.endpoint, options.security);
      this.revocation = new Revocation(options.security, this.logger);
      for (const c of this.channels) if (c.endpoint !== "answers") options.security.connections.track(c.endpoint);
    }
    const limitedLog = new RateLimitedLog(this.logger);
    for (const c of this.channels) {
      watchAcceptFailures(c.socket, c.endpoint, limitedLog);
      this.connections.watch(c.socket, c.endpoint);
    }
    const bound: EndpointSet = { clients: "", workers: "", answers: "", admin: null };
    for (const channel of this.channels) {
      const address = options.endpoints[channel.endpoint];
      if (address === null) continue;
      try {
        await channel.socket.bind(address);
      } catch (err) {
        for (const c of this.channels) c.socket.close();
        this.channels = [];
        throw BindError.from(channel.endpoint, address, err);
      }
      bound[channel.endpoint] = channel.socket.lastEndpoint ?? address;
    }
    this.bound = bound;

    const config: CoreConfig = {
      tries: options.tries,
      timeout: options.timeout,
      heartbeat: options.heartbeat,
      maxQueue: options.maxQueue,
      history: options.history,
      services: options.services,
      bootNonce: options.journal?.store.prefix ?? options.bootNonce ?? randomNonce(),
      info: { version: options.version, endpoints: { ...bound } },
    };
    config.historyBytes = octets.historyBytes;
    if (octets.unservedBytes !== null) config.unservedBytes = octets.unservedBytes;
    if (octets.keptBytes !== null) config.keptBytes = octets.keptBytes;
    if (options.keepFailed !== undefined) config.keepFailed = options.keepFailed;
    if (options.keepResults !== undefined) config.keepResults = options.keepResults;
    if (options.deadline !== undefined) config.deadline = options.deadline;
    config.bounds = { maxOctets: options.maxMessage, maxFrames: options.maxFrames ?? DEFAULT_MAX_FRAMES };
    if (options.maxKept !== undefined) config.maxKept = options.maxKept;
    if (options.maxMemory !== undefined) config.maxMemory = options.maxMemory;
    if (options.journal !== undefined) config.journal = { fsync: options.journal.fsync };
    if (options.cluster !== undefined) config.cluster = { name: options.cluster.name, broker: options.cluster.broker };
    const startedAt = Date.now();
    this.core = options.createCore ? options.createCore(config, startedAt) : new BrokerCore(config, startedAt);
    if (options.journal !== undefined) {
      this.store = options.journal.store;
      const onFailure = options.onJournalFailure ?? ((err: unknown) => this.logger.error("journal-failed", { message: errorMessage(err) }));
      this.commit = new GroupCommit(this.store, (outputs) => this.performNow(outputs), (err) => {
        void this.close();
        onFailure(err);
      }, options.journal.crashAfterCommits);
      // Before any message: the journal's tasks are the core's first input (the recovery rules live in the core).
      this.feed({ kind: "recover", state: this.store.read() });
    }

    if (options.cluster !== undefined) this.cluster = options.cluster.start((event) => this.feed({ kind: "cluster", event }));

    const bounds: MessageBounds = { maxOctets: options.maxMessage, maxFrames: options.maxFrames ?? DEFAULT_MAX_FRAMES };
    this.loops = [
      receiveLoop(clients, "clients", this.logger, (frames) => this.receive("clients", (f) => clientInput(f, bounds), frames)),
      receiveLoop(workers, "workers", this.logger, (frames) => this.receive("workers", (f) => (this.noticed("workers", f) ? undefined : workerInput(f, bounds)), frames)),
      receiveLoop(answers, "answers", this.logger, (frames) => this.receive("answers", (f) => answerInput(f, bounds), frames)),
    ];
    if (admin) this.loops.push(receiveLoop(admin, "admin", this.logger, (f) => this.receive("admin", (g) => (this.noticed("admin", g) ? undefined : adminInput(g, bounds)), f)));
    if (options.maxMemory !== undefined) {
      const sampler = new MemorySampler(options.maxMemory);
      const sample = (): void => this.feed({ kind: "memory", ...sampler.sample() });
      sample();
      this.memorySampler = setInterval(sample, MEMORY_SAMPLE_MS);
      this.memorySampler.unref();
    }
    this.timer.update(this.core.nextDeadline());
    return bound;
  }

  /**
   * SIGHUP with CURVE: re-reads the allow-lists (all or nothing) and stops serving every connection whose key is no
   * longer allowed (protocol/spec.md §Security); throws the reload's one-line error, the lists in force unchanged.
   */
  async reloadKeys(): Promise<AllowListSizes> {
    if (this.revocation === undefined) throw new Error("reloadKeys needs a broker started with CURVE");
    const outcome = await this.revocation.reload();
    for (const input of outcome.inputs) this.feed(input);
    const answers = this.channels.find((c) => c.endpoint === "answers");
    const address = this.bound?.answers;
    if (outcome.rebindAnswers && answers !== undefined && address !== undefined && this.closing === undefined) {
      // A PULL socket cannot drop one peer: every legacy worker's PUSH connects again, through ZAP.
      await answers.socket.unbind(address);
      this.connections.reset("answers");
      await answers.socket.bind(address);
      this.logger.warn("answers-rebound", { endpoint: address });
    }
    return outcome.sizes;
  }

  /** Messages dropped because their peer's key was revoked. */
  get revokedDropped(): number {
    return this.revocation?.dropped ?? 0;
  }

  /**
   * Graceful stop: the core stops taking requests, gives running tasks `grace` ms, answers every pending client
   * (failed/shutdown) and says DISCONNECT to workers; sockets close when it reports `stopped`, or at the latest
   * `hardLimit` ms after the call (default `grace + SHUTDOWN_MARGIN_MS`).
   */
  async shutdown(grace: number, hardLimit: number = grace + SHUTDOWN_MARGIN_MS): Promise<void> {
    if (this.core === undefined) return this.close();
    if (!this.shutdownStarted) {
      this.shutdownStarted = true;
      this.feed({ kind: "shutdown", grace });
    }
    let limit: NodeJS.Timeout | undefined;
    const cutOff = new Promise<void>((resolve) => (limit = setTimeout(resolve, hardLimit)));
    await Promise.race([this.stopped, cutOff]);
    clearTimeout(limit);
    await this.close();
  }

  /** Flushes the send queues and closes every socket with a short linger. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.timer.stop();
    clearInterval(this.memorySampler);
    this.commit?.flush();
    this.cluster?.close();
    await Promise.all(this.channels.map((channel) => channel.queue?.drained()));
    for (const channel of this.channels) {
      channel.socket.linger = CLOSE_LINGER_MS;
      channel.socket.close();
    }
    await Promise.all(this.loops);
    this.store?.close();
  }

  private receive(endpoint: Endpoint, decode: (frames: Buffer[]) => Decoded, frames: Buffer[]): void {
    let input: Decoded;
    try {
      input = decode(frames);
    } catch (err) {
      // Only ProtocolError is the peer's fault (handled in decode); anything else is a codec bug: log, keep serving.
      this.logger.error("decode-failed", { endpoint, message: errorMessage(err) });
      return;
    }
    if (input !== undefined && (this.revocation?.admit(input) ?? true)) this.feed(input);
  }

  /** A connect notice on the workers or admin ROUTER (on only with CURVE) is the shell's, never the core's: true if taken. */
  private noticed(endpoint: "workers" | "admin", frames: Buffer[]): boolean {
    if (this.revocation === undefined) return false;
    const peer = connectNotice(frames);
    return peer !== undefined && this.revocation.connected(endpoint, peer);
  }

  private feed(input: Input): void {
    const core = this.core;
    if (core === undefined || this.closing !== undefined) return;
    let outputs: Output[];
    try {
      outputs = core.handle(input, Date.now());
    } catch (err) {
      this.logger.error("core-failed", { input: input.kind, message: errorMessage(err) });
      return;
    }
    this.perform(outputs);
    this.timer.update(core.nextDeadline());
  }

  private onDeadline(): void {
    const core = this.core;
    if (core === undefined || this.closing !== undefined) return;
    try {
      this.perform(core.tick(Date.now()));
    } catch (err) {
      this.logger.error("core-failed", { input: "tick", message: errorMessage(err) });
    }
    this.timer.update(core.nextDeadline());
  }

  /** In durable mode the group commit decides when outputs are performed; otherwise at once. */
  private perform(outputs: readonly Output[]): void {
    if (this.commit !== undefined) this.commit.push(outputs);
    else this.performNow(outputs);
  }

  /** Performs the core's outputs in order: one switch, exhaustive over `Output`. */
  private performNow(outputs: readonly Output[]): void {
    for (const output of outputs) {
      switch (output.kind) {
        case "to-client":
          if (this.revocation?.blocks("clients", output.peer) !== true) this.sendTo(this.clientsQueue, output.peer, encodeClientReply(output.msg));
          break;
        case "to-worker":
          if (this.revocation?.blocks("workers", output.peer) !== true) this.sendTo(this.workersQueue, output.peer, encodeToWorker(output.msg));
          break;
        case "to-admin":
          if (this.revocation?.blocks("admin", output.peer) !== true) this.sendTo(this.adminQueue, output.peer, encodeAdminReply(this.withConnections(output.msg)));
          break;
        case "log": {
          // The core's peer keys are routing ids in latin1; logs show them in hex (§What the receiver does).
          const { fields } = output;
          this.logger.log(output.level, output.event, typeof fields.peer === "string" ? { ...fields, peer: showPeer(fields.peer) } : fields);
          break;
        }
        case "stopped":
          this.resolveStopped();
          break;
        case "cluster":
          this.cluster?.perform(output.request);
          break;
        case "journal":
          // Only durable mode emits records, and there GroupCommit takes them; nothing to do without a store.
          break;
        default: {
          const unexpected: never = output;
          throw new Error(`unknown core output ${JSON.stringify(unexpected)}`);
        }
      }
    }
  }

  /** SNAPSHOT `broker.connections` are the shell's facts (its sockets' events): added on the way out. */
  private withConnections(msg: AdminReply): AdminReply {
    if (msg.type !== "snapshot") return msg;
    const { snapshot } = msg;
    return { ...msg, snapshot: { ...snapshot, broker: { ...snapshot.broker, connections: this.connections.counts() } } };
  }

  private sendTo(queue: SendQueue | undefined, peer: string, frames: Uint8Array[]): void {
    if (queue === undefined) return;
    frames.unshift(routingId(peer));
    queue.push(frames, peer);
  }
}

/** `<boot-nonce>` of task ids (protocol/spec.md §Task ids): random per start, printable, short. */
function randomNonce(): string {
  return randomBytes(4).readUInt32BE(0).toString(36).padStart(7, "0");
}
