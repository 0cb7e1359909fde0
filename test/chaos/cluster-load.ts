/**
 * The clients of the cluster chaos run (`npm run chaos -- --cluster`): keyed clients homed on each broker, doing the
 * failover a cluster client must do (issue 11, "Replies find their client") inside the driver itself. Each request
 * carries an idempotency key (its tag, behaviour.ts) and is sent to the client's home broker; when that broker dies
 * (the runner closes its sockets: the pending requests end with ClientClosedError) or no reply comes within
 * `resendAfter`, the same key goes to the other broker. A reply `unavailable` (the broker lost NATS) is a refusal, not
 * an answer: the key is sent again after a pause. The first other reply is the key's answer; each key takes one.
 */
import { Client, ClientClosedError, ClientTimeoutError, type Reply } from "../../broker/src/client";
import { makeTag, seededRandom } from "./behaviour";

export interface ClusterLoadOptions {
  /** The clients endpoint of each broker (index = broker). */
  endpoints: readonly string[];
  requests: number;
  /** Keyed clients per broker, each with `window` lanes. */
  clientsPerBroker: number;
  window: number;
  /** The brokers' -t: a failure after that many attempts is justified. */
  tries: number;
  resendAfter: number;
  /** A key with no answer this long after its first try is given up (lost). */
  giveUpAfter: number;
  seed: number;
  /**
   * Asked before each new key with the count sent so far: false holds the key back (polled), so the runner can keep the
   * load from running past a scheduled fault that has not started yet.
   */
  maySend?: (sent: number) => boolean;
}

export interface KeyOutcome {
  tries: number;
  reply?: Reply;
  /** Which broker answered (index). */
  broker?: number;
  gaveUp: boolean;
  /** The last `unavailable` refusal's broker and message. */
  lastRefusal?: string;
}

export interface ClusterLoadResult {
  sent: number;
  replies: number;
  succeeded: number;
  duplicateFlagged: number;
  failures: Map<string, number>;
  wrong: string[];
  unjustified: string[];
  /** Tries sent again to another broker: after a client-side deadline, and after the broker was killed. */
  resendsAfterDeadline: number;
  resendsAfterKill: number;
  /** Replies `unavailable` (the broker had lost NATS), each followed by a resend. */
  refused: number;
}

/** The socket stats of every Client the load has closed, summed (kept across broker restarts). */
interface SocketTotals {
  duplicates: number;
  late: number;
  unmatched: number;
}

export class ClusterLoad {
  readonly result: ClusterLoadResult = {
    sent: 0,
    replies: 0,
    succeeded: 0,
    duplicateFlagged: 0,
    failures: new Map(),
    wrong: [],
    unjustified: [],
    resendsAfterDeadline: 0,
    resendsAfterKill: 0,
    refused: 0,
  };
  readonly keys = new Map<string, KeyOutcome>();
  private readonly closedTotals: SocketTotals = { duplicates: 0, late: 0, unmatched: 0 };
  /** One Client per broker per client index; undefined while that broker is down. */
  private readonly sockets: (Client | undefined)[][];
  private readonly random: () => number;
  private closed = false;
  /** Polls that held a lane back (maySend said no), 10 ms each. */
  heldBack = 0;

  constructor(private readonly options: ClusterLoadOptions) {
    this.random = seededRandom(options.seed ^ 0xc1057e5);
    const perClient = options.endpoints.length * options.clientsPerBroker;
    this.sockets = Array.from({ length: perClient }, () => options.endpoints.map((endpoint) => new Client({ endpoint })));
  }

  /** The runner killed broker `b`: its sockets close, and every request pending on them fails over. */
  brokerDown(b: number): void {
    for (const row of this.sockets) {
      const client = row[b];
      if (client === undefined) continue;
      row[b] = undefined;
      this.retire(client);
    }
  }

  /** Broker `b` listens again (same endpoint): new sockets to it. */
  brokerUp(b: number): void {
    const endpoint = this.options.endpoints[b] ?? "";
    for (const row of this.sockets) row[b] ??= new Client({ endpoint });
  }

  async run(): Promise<void> {
    const { requests, endpoints, clientsPerBroker } = this.options;
    const count = endpoints.length * clientsPerBroker;
    await Promise.all(
      Array.from({ length: count }, (_, index) => {
        const share = Math.floor(requests / count) + (index < requests % count ? 1 : 0);
        return this.runClient(index, index % endpoints.length, share);
      }),
    );
  }

  /** Replies to a correlation id that had been answered already (must stay 0), late replies to abandoned tries. */
  socketTotals(): SocketTotals {
    const totals = { ...this.closedTotals };
    for (const row of this.sockets) {
      for (const client of row) {
        if (client === undefined) continue;
        totals.duplicates += client.stats.duplicates;
        totals.late += client.stats.late;
        totals.unmatched += client.stats.unmatched;
      }
    }
    return totals;
  }

  /** Keys sent and not answered yet. */
  get waiting(): number {
    let n = 0;
    for (const outcome of this.keys.values()) if (outcome.reply === undefined && !outcome.gaveUp) n++;
    return n;
  }

  close(): void {
    this.closed = true;
    for (const row of this.sockets) {
      for (const [b, client] of row.entries()) {
        if (client === undefined) continue;
        row[b] = undefined;
        this.retire(client);
      }
    }
  }

  private retire(client: Client): void {
    this.closedTotals.duplicates += client.stats.duplicates;
    this.closedTotals.late += client.stats.late;
    this.closedTotals.unmatched += client.stats.unmatched;
    client.close();
  }

  private async runClient(index: number, home: number, share: number): Promise<void> {
    const name = `c${index}`;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < share && !this.closed) {
        const maySend = this.options.maySend;
        if (maySend !== undefined && !maySend(this.result.sent)) {
          this.heldBack++;
          await this.sleep(10);
          continue;
        }
        const tag = makeTag(name, next++);
        this.result.sent++;
        const outcome: KeyOutcome = { tries: 0, gaveUp: false };
        this.keys.set(tag, outcome);
        await this.sendKeyed(index, home, tag, outcome);
      }
    };
    await Promise.all(Array.from({ length: this.options.window }, lane));
  }

  /** The first live broker from `preferred` on (round robin), or undefined when every broker is down. */
  private socketFor(index: number, preferred: number): { client: Client; broker: number } | undefined {
    const row = this.sockets[index] ?? [];
    for (let i = 0; i < row.length; i++) {
      const broker = (preferred + i) % row.length;
      const client = row[broker];
      if (client !== undefined) return { client, broker };
    }
    return undefined;
  }

  private async sendKeyed(index: number, home: number, tag: string, outcome: KeyOutcome): Promise<void> {
    let preferred = home;
    let pause = 50;
    const brokers = this.options.endpoints.length;
    const giveUpAt = Date.now() + this.options.giveUpAfter;
    while (!this.closed) {
      if (Date.now() >= giveUpAt) {
        outcome.gaveUp = true;
        return;
      }
      const target = this.socketFor(index, preferred);
      if (target === undefined) {
        await this.sleep(100);
        continue;
      }
      outcome.tries++;
      const id = `${tag}#${outcome.tries}`;
      try {
        const deadline = Math.max(1, Math.min(this.options.resendAfter, giveUpAt - Date.now()));
        const reply = await target.client.request([tag], { key: tag, id, deadline });
        if (reply.reason === "unavailable") {
          this.result.refused++;
          outcome.lastRefusal = `b${target.broker}: ${reply.message ?? ""}`;
          preferred = (target.broker + 1) % brokers;
          await this.sleep(pause);
          pause = Math.min(pause * 2, 1000);
          continue;
        }
        outcome.reply = reply;
        outcome.broker = target.broker;
        this.take(tag, id, reply);
        return;
      } catch (error) {
        if (this.closed) return;
        if (error instanceof ClientClosedError) this.result.resendsAfterKill++;
        else if (error instanceof ClientTimeoutError) this.result.resendsAfterDeadline++;
        else throw error;
        preferred = (target.broker + 1) % brokers;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms * (0.8 + 0.4 * this.random())));
  }

  private take(tag: string, id: string, reply: Reply): void {
    this.result.replies++;
    if (reply.duplicate === true) this.result.duplicateFlagged++;
    if (reply.id !== id) {
      this.result.wrong.push(`${id} answered as ${reply.id}`);
      return;
    }
    if (reply.status === "succeeded") {
      const echoed = Buffer.from(reply.payload[0] ?? []).toString("utf8");
      if (echoed !== tag || reply.payload.length !== 1) this.result.wrong.push(`${tag} got the payload of ${echoed}`);
      this.result.succeeded++;
      return;
    }
    const reason = reply.reason ?? "none";
    this.result.failures.set(reason, (this.result.failures.get(reason) ?? 0) + 1);
    // Attempts are counted per delivery in cluster mode: every kill of a broker or worker holding the task uses one,
    // so `worker-lost` or `timeout` after the last attempt is the one failure this chaos can justify.
    const justified = (reason === "worker-lost" || reason === "timeout") && reply.attempts >= this.options.tries;
    if (!justified) this.result.unjustified.push(`${tag}: ${reason} after ${reply.attempts} attempt(s): ${reply.message ?? ""}`);
  }
}
