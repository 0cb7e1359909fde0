/**
 * The clients of the broker-kill chaos run (`npm run chaos -- --broker-kill`): the two kinds a durable broker makes a
 * promise to (protocol/spec.md §Durability). Plain REQ clients without a routing id are not among them: a broker that
 * restarts cannot tell their new connection from a stranger's, so their pending requests are not part of the promise.
 *
 * - Routed clients: one enveloped `Client` each, with a fixed ZMQ_ROUTING_ID, that never resends. After a broker kill
 *   libzmq reconnects the same socket, and the restarted broker delivers the replies of the tasks it recovered. A
 *   request still travelling at the kill (in a socket buffer, or read but not yet committed) never reached the journal:
 *   no reply is owed for it. So a lane waits `stallAfter` ms for a reply, then moves on to its next request while the
 *   first one stays pending (its reply still counts when it comes); the journal audit at the end decides which of the
 *   requests never answered were owed a reply.
 * - Keyed clients: each request carries an idempotency key (its tag) and, when no reply comes within `resendAfter`
 *   ms, is sent again with the same key on a new socket (a new connection, no routing id), with back-off — the spec's
 *   "close, reopen and resend". Every key must end with one reply, from one task.
 *
 * Every request's first payload frame is its tag (behaviour.ts), echoed by the workers, so each reply is checked
 * against the request it answers.
 */
import { Client, ClientClosedError, ClientTimeoutError, type Reply } from "../../broker/src/client";
import type { FailureReason } from "../../broker/src/protocol/messages";
import { isPoison, makeTag, seededRandom } from "./behaviour";

export interface DurableLoadOptions {
  endpoint: string;
  requests: number;
  /** Clients with a routing id (no resend) and keyed clients (resend with the key), each with `window` lanes. */
  routed: number;
  keyed: number;
  window: number;
  /** The broker's -t: a failure after that many attempts is justified. */
  tries: number;
  /** Routed lanes move on after this long without a reply (the request stays pending). */
  stallAfter: number;
  /** Keyed requests are resent on a new socket after this long without a reply. */
  resendAfter: number;
  /** A keyed request given up after this many tries is lost. */
  maxTries: number;
  seed: number;
  /** Called on every reply received (to time the first reply after a broker restart). */
  onReply?: () => void;
}

/** What became of one routed request. */
export interface RoutedOutcome {
  replies: number;
  reply?: Reply;
}

/** What became of one key. */
export interface KeyedOutcome {
  tries: number;
  reply?: Reply;
  /** The key was abandoned after `maxTries`. */
  gaveUp: boolean;
}

export interface DurableLoadResult {
  sent: number;
  /** Replies taken (one per routed tag, one per key). */
  replies: number;
  succeeded: number;
  failures: Map<string, number>;
  /** Replies whose id or payload belonged to another request. */
  misrouted: string[];
  unjustified: string[];
  /** Keyed tries that reached their deadline and were sent again. */
  resends: number;
  /** Routed lanes that moved on without a reply. */
  stalls: number;
}

export class DurableLoad {
  readonly result: DurableLoadResult = {
    sent: 0,
    replies: 0,
    succeeded: 0,
    failures: new Map(),
    misrouted: [],
    unjustified: [],
    resends: 0,
    stalls: 0,
  };
  readonly routed = new Map<string, RoutedOutcome>();
  readonly keyed = new Map<string, KeyedOutcome>();
  private readonly routedClients: Client[] = [];
  private readonly keyedClients = new Set<Client>();
  /** Routed requests whose lane moved on: settled when their reply (or the end of the run) comes. */
  private readonly outstanding = new Set<Promise<void>>();
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly options: DurableLoadOptions) {
    this.random = seededRandom(options.seed ^ 0x5eed);
  }

  /** Runs every lane to its last request; routed requests that stalled may still be pending after it resolves. */
  async run(): Promise<void> {
    const { routed, keyed, requests } = this.options;
    const kinds = [...Array<"routed">(routed).fill("routed"), ...Array<"keyed">(keyed).fill("keyed")];
    await Promise.all(
      kinds.map((kind, index) => {
        const share = Math.floor(requests / kinds.length) + (index < requests % kinds.length ? 1 : 0);
        return kind === "routed" ? this.runRouted(index, share) : this.runKeyed(index, share);
      }),
    );
  }

  /** Routed requests with no reply yet. */
  pendingRouted(): string[] {
    return [...this.routed].filter(([, outcome]) => outcome.replies === 0).map(([tag]) => tag);
  }

  /** Second replies the routed clients received for requests they had answered (counted by the client library). */
  duplicateReplies(): number {
    return this.routedClients.reduce((sum, client) => sum + client.stats.duplicates, 0);
  }

  close(): void {
    this.closed = true;
    for (const client of [...this.routedClients, ...this.keyedClients]) client.close();
  }

  private async runRouted(index: number, share: number): Promise<void> {
    const name = `r${index}`;
    // Unique per client and the same for the whole run: how the restarted broker recognises the client.
    const client = new Client({ endpoint: this.options.endpoint, routingId: `chaos-${name}`, deadline: 2 ** 31 - 1 });
    this.routedClients.push(client);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < share && !this.closed) {
        const tag = makeTag(name, next++);
        const outcome: RoutedOutcome = { replies: 0 };
        this.routed.set(tag, outcome);
        this.result.sent++;
        const settled = client.request([tag], { id: tag }).then(
          (reply) => this.onRouted(tag, outcome, reply),
          (error: unknown) => {
            if (!(error instanceof ClientClosedError)) throw error;
          },
        );
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<"stalled">((resolve) => (timer = setTimeout(() => resolve("stalled"), this.options.stallAfter)));
        if ((await Promise.race([settled, stalled])) === "stalled") {
          this.result.stalls++;
          this.outstanding.add(settled);
          void settled.finally(() => this.outstanding.delete(settled));
        }
        clearTimeout(timer);
      }
    };
    await Promise.all(Array.from({ length: this.options.window }, lane));
  }

  private onRouted(tag: string, outcome: RoutedOutcome, reply: Reply): void {
    this.options.onReply?.();
    outcome.replies++;
    outcome.reply = reply;
    this.take(tag, reply, reply.id !== tag ? `${tag} answered as ${reply.id}` : undefined);
  }

  private async runKeyed(index: number, share: number): Promise<void> {
    const name = `k${index}`;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < share && !this.closed) {
        const tag = makeTag(name, next++);
        this.result.sent++;
        const outcome: KeyedOutcome = { tries: 0, gaveUp: false };
        this.keyed.set(tag, outcome);
        await this.sendKeyed(tag, outcome);
      }
    };
    await Promise.all(Array.from({ length: this.options.window }, lane));
  }

  /** Sends `tag` with itself as key until a reply comes: each try on a new socket, 100 ms doubling to 2 s between. */
  private async sendKeyed(tag: string, outcome: KeyedOutcome): Promise<void> {
    let pause = 100;
    while (!this.closed) {
      if (outcome.tries === this.options.maxTries) {
        outcome.gaveUp = true;
        return;
      }
      outcome.tries++;
      const client = new Client({ endpoint: this.options.endpoint });
      this.keyedClients.add(client);
      try {
        // A fresh correlation id per try: the id belongs to the connection, the key to the work.
        const reply = await client.request([tag], { key: tag, id: `${tag}#${outcome.tries}`, deadline: this.options.resendAfter });
        this.options.onReply?.();
        outcome.reply = reply;
        this.take(tag, reply, reply.id !== `${tag}#${outcome.tries}` ? `${tag} try ${outcome.tries} answered as ${reply.id}` : undefined);
        return;
      } catch (error) {
        if (error instanceof ClientClosedError) return;
        if (!(error instanceof ClientTimeoutError)) throw error;
        this.result.resends++;
      } finally {
        client.close();
        this.keyedClients.delete(client);
      }
      await new Promise((resolve) => setTimeout(resolve, pause * (0.8 + 0.2 * this.random())));
      pause = Math.min(pause * 2, 2000);
    }
  }

  /** Routed requests whose lane moved on, still waiting: resolves when they all have their reply or the run closes. */
  async settleOutstanding(): Promise<void> {
    await Promise.all([...this.outstanding]);
  }

  get outstandingCount(): number {
    return this.outstanding.size;
  }

  private take(tag: string, reply: Reply, wrongId: string | undefined): void {
    this.result.replies++;
    if (wrongId !== undefined) {
      this.result.misrouted.push(wrongId);
      return;
    }
    if (reply.status === "succeeded") {
      const echoed = Buffer.from(reply.payload[0] ?? []).toString("utf8");
      if (echoed !== tag || reply.payload.length !== 1) this.result.misrouted.push(`${tag} got the payload of ${echoed}`);
      else if (isPoison(tag)) this.result.unjustified.push(`${tag}: a poison request succeeded`);
      this.result.succeeded++;
      return;
    }
    const reason = reply.reason ?? "none";
    this.result.failures.set(reason, (this.result.failures.get(reason) ?? 0) + 1);
    if (!this.justified(tag, reply.reason, reply.attempts)) this.result.unjustified.push(`${tag}: ${reason} after ${reply.attempts} attempt(s)`);
  }

  /**
   * The failures a durable broker may give under this chaos: attempts exhausted (timeout, worker-lost — a worker
   * killed, or the broker killed during the last attempt — or worker-failed), or a non-retryable FAIL of a poison
   * request.
   */
  private justified(tag: string, reason: FailureReason | undefined, attempts: number): boolean {
    if (reason === "worker-failed" && isPoison(tag)) return true;
    return (reason === "timeout" || reason === "worker-lost" || reason === "worker-failed") && attempts === this.options.tries;
  }
}
