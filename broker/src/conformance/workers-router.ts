/**
 * The checker's own workers endpoint: a ROUTER it binds in place of the broker, so it can choose every frame it sends
 * (task ids, CANCEL, DISCONNECT), fall silent, or close and rebind to play a broker restart. Every frame goes through
 * the codec in both directions.
 *
 * In `broker` mode it also keeps the minimum a broker must do so a correct worker stays connected (§Heartbeating,
 * §DISCONNECT): a HEARTBEAT right after each READY and then every interval, and DISCONNECT unknown-worker in answer
 * to a message from a connection that has not sent READY. In `plain` mode (legacy workers) it only records.
 */
import { Router } from "zeromq";
import { decodeWorker, encodeToWorker } from "../codec";
import type { BrokerToWorker, Frame, WorkerMessage } from "../protocol/messages";
import { SendQueue } from "../peer/send-queue";
import type { Inbox, Seen } from "./inbox";
import { workerMessage } from "./scenario-inputs";

interface Registration {
  routingId: Frame;
  /** Muted connections get nothing from the checker any more (no heartbeats): the broker "fell silent". */
  muted: boolean;
  lastSent: number;
}

export type WorkerInbox = Inbox<WorkerMessage>;

export class WorkersRouter {
  private readonly router: Router;
  private readonly queue: SendQueue;
  private readonly registered = new Map<string, Registration>();
  private readonly timer: NodeJS.Timeout | undefined;
  /** Connections answered with DISCONNECT unknown-worker, for the report. */
  readonly unknownAnswered = new Set<string>();
  private closed = false;

  private constructor(
    router: Router,
    readonly endpoint: string,
    private readonly inbox: WorkerInbox,
    private readonly mode: "broker" | "plain",
    private readonly heartbeat: number,
    private readonly clock: () => number,
  ) {
    this.router = router;
    this.queue = new SendQueue(router);
    if (mode === "broker") this.timer = setInterval(() => this.beat(), Math.max(20, Math.floor(heartbeat / 4)));
    void this.receive();
  }

  /** Binds `endpoint` (e.g. tcp://127.0.0.1:* or, for a restart, the endpoint used before). */
  static async bind(
    endpoint: string,
    inbox: WorkerInbox,
    mode: "broker" | "plain",
    heartbeat: number,
    clock: () => number,
  ): Promise<WorkersRouter> {
    const router = new Router({ linger: 0 });
    await bindRetrying(router, endpoint);
    return new WorkersRouter(router, router.lastEndpoint ?? endpoint, inbox, mode, heartbeat, clock);
  }

  /** Sends `msg` to a connection (its routing id in hex, as in Seen.peer). */
  send(peer: string, msg: BrokerToWorker): void {
    const registration = this.registered.get(peer);
    if (registration !== undefined) registration.lastSent = this.clock();
    this.post(Buffer.from(peer, "hex"), encodeToWorker(msg));
  }

  /** Sends frames as they are: the spec's invalid vectors, played to see that the worker survives them. */
  sendRaw(peer: string, frames: Frame[]): void {
    const registration = this.registered.get(peer);
    if (registration !== undefined) registration.lastSent = this.clock();
    this.post(Buffer.from(peer, "hex"), frames);
  }

  /** Stops talking to a connection: no heartbeats, no answers. */
  mute(peer: string): void {
    const registration = this.registered.get(peer);
    if (registration !== undefined) registration.muted = true;
  }

  /** Forgets a connection (after DISCONNECT): its next message is answered as from an unknown worker. */
  forget(peer: string): void {
    this.registered.delete(peer);
  }

  /** When the checker last sent anything to this connection. */
  lastSent(peer: string): number | undefined {
    return this.registered.get(peer)?.lastSent;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.queue.close();
    try {
      await this.router.unbind(this.endpoint);
    } catch {
      // not bound any more: closing is enough
    }
    this.router.close();
  }

  private async receive(): Promise<void> {
    try {
      for await (const [routingId, ...frames] of this.router) {
        if (routingId === undefined) continue;
        const peer = Buffer.from(routingId).toString("hex");
        const seen = this.inbox.push(peer, frames);
        if (this.mode === "broker") this.react(peer, routingId, seen);
      }
    } catch {
      // the socket was closed (a restart, or the end of the run)
    }
  }

  private react(peer: string, routingId: Frame, seen: Seen<WorkerMessage>): void {
    const msg = seen.msg;
    if (msg === undefined) return;
    if (msg.type === "ready") {
      const now = this.clock();
      this.registered.set(peer, { routingId, muted: false, lastSent: now });
      this.post(routingId, encodeToWorker({ type: "heartbeat", interval: this.heartbeat }));
      return;
    }
    if (msg.type === "disconnect") {
      // bye+finish announces a departure but keeps the connection (§Leaving without losing work).
      if (msg.detail?.finish !== true) this.registered.delete(peer);
      return;
    }
    if (msg.type === "legacy-ready" || msg.type === "peer-gone" || this.registered.has(peer)) return;
    this.unknownAnswered.add(peer);
    this.post(routingId, encodeToWorker(unknownWorker()));
  }

  private beat(): void {
    const now = this.clock();
    for (const registration of this.registered.values()) {
      if (registration.muted || now - registration.lastSent < this.heartbeat) continue;
      registration.lastSent = now;
      this.post(registration.routingId, encodeToWorker({ type: "heartbeat", interval: this.heartbeat }));
    }
  }

  private post(routingId: Frame, frames: Frame[]): void {
    if (this.closed) return;
    // A peer gone meanwhile is not an error of the peer under test: the ROUTER drops the message.
    this.queue.post([routingId, ...frames], () => undefined);
  }
}

/** The DISCONNECT a broker sends to a connection it does not know, as the heartbeat-expiry scenario shows it. */
function unknownWorker(): BrokerToWorker {
  return workerMessage("disconnect", (msg) => msg.detail?.reason === "unknown-worker");
}

/** Right after a close, libzmq may still hold the port for a moment: a restart retries for up to a second. */
export async function bindRetrying(socket: { bind(endpoint: string): Promise<void> }, endpoint: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await socket.bind(endpoint);
      return;
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code !== "EADDRINUSE" || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export function decodeWorkerMessage(frames: Frame[]): WorkerMessage {
  return decodeWorker(frames);
}
