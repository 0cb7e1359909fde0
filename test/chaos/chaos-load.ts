/**
 * The chaos run's clients: library `Client`s (enveloped) and `PlainClient`s (plain mode), each keeping a window of
 * requests in flight. Every request carries a unique tag as its first payload frame (and, enveloped, as its
 * correlation id), so every reply is checked against exactly one request: the echoed payload must be the request's
 * own, a tag answered twice is a duplicate, a request with no reply before its client deadline is lost.
 *
 * A failure is justified when it is what the broker promises under this chaos (protocol/spec.md §Scheduling rules 4):
 * attempts exhausted (timeout, worker-lost or worker-failed after `tries` attempts), a non-retryable FAIL (only poison
 * requests get one, see behaviour.ts), or cancelled (only requests this load cancelled). Plain replies carry no
 * reason: their failures are justified afterwards from the admin EVENTs (`justifyPlain`).
 */
import { Client, ClientAbortedError, ClientTimeoutError, PlainClient, type Reply } from "../../broker/src/client";
import type { FailureReason } from "../../broker/src/protocol/messages";
import { isPoison, makeTag, seededRandom } from "./behaviour";
import type { FinalFailure } from "./admin-monitor";

export type ClientMode = "plain" | "enveloped";

export interface LoadOptions {
  endpoint: string;
  requests: number;
  clients: readonly ClientMode[];
  /** Requests in flight per client. */
  window: number;
  /** Client-side deadline per request, ms: a request with no reply by then is lost. */
  deadline: number;
  /** The broker's -t. */
  tries: number;
  /** Fraction of enveloped requests aborted (CANCEL) 0..50 ms after sending. */
  cancelRate: number;
  seed: number;
}

export interface LoadResult {
  sent: number;
  replies: number;
  succeeded: number;
  /** Failures by reason ("plain" until justified from the admin view). */
  failures: Map<string, number>;
  lost: string[];
  duplicates: number;
  /** Replies whose payload or id belonged to another request. */
  misrouted: string[];
  unjustified: string[];
  /** Plain failures waiting for their reason from the admin EVENTs. */
  plainFailures: string[];
  cancelledSent: number;
}

export class ChaosLoad {
  readonly result: LoadResult = {
    sent: 0,
    replies: 0,
    succeeded: 0,
    failures: new Map(),
    lost: [],
    duplicates: 0,
    misrouted: [],
    unjustified: [],
    plainFailures: [],
    cancelledSent: 0,
  };
  private readonly answered = new Set<string>();
  private readonly random: () => number;
  private readonly enveloped: Client[] = [];
  private readonly plain: PlainClient[] = [];

  constructor(private readonly options: LoadOptions) {
    this.random = seededRandom(options.seed);
  }

  async run(): Promise<void> {
    const { clients, requests } = this.options;
    const runs = clients.map((mode, index) => {
      const share = Math.floor(requests / clients.length) + (index < requests % clients.length ? 1 : 0);
      return mode === "plain" ? this.runPlain(index, share) : this.runEnveloped(index, share);
    });
    await Promise.all(runs);
  }

  /** Replies the library clients saw for requests they had already answered (counted in their stats). */
  libraryDuplicates(): number {
    return [...this.enveloped, ...this.plain].reduce((sum, client) => sum + client.stats.duplicates, 0);
  }

  close(): void {
    for (const client of [...this.enveloped, ...this.plain]) client.close();
  }

  /** Justifies the plain failures with the reasons the broker reported to its monitor. */
  justifyPlain(failures: ReadonlyMap<string, FinalFailure>): void {
    const pending = this.result.plainFailures.splice(0);
    for (const tag of pending) {
      const known = failures.get(tag);
      if (known === undefined) {
        this.result.plainFailures.push(tag);
        continue;
      }
      this.count(`${known.reason ?? "none"}`);
      this.justify(tag, known.reason, known.attempts, false);
    }
  }

  private async runEnveloped(index: number, share: number): Promise<void> {
    const client = new Client({ endpoint: this.options.endpoint, cancelWait: this.options.deadline });
    this.enveloped.push(client);
    const name = `e${index}`;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < share) {
        const tag = makeTag(name, next++);
        const cancel = this.random() < this.options.cancelRate ? new AbortController() : undefined;
        this.result.sent++;
        const sending = client.request([tag], { id: tag, deadline: this.options.deadline, signal: cancel?.signal });
        if (cancel !== undefined) {
          this.result.cancelledSent++;
          setTimeout(() => cancel.abort(), Math.floor(this.random() * 50));
        }
        let reply: Reply;
        try {
          reply = await sending;
        } catch (error) {
          if (error instanceof ClientTimeoutError || error instanceof ClientAbortedError) {
            this.result.lost.push(tag);
            continue;
          }
          throw error;
        }
        if (!this.first(tag, reply.id)) continue;
        if (reply.status === "succeeded") this.succeeded(tag, reply.payload);
        else {
          this.count(reply.reason ?? "none");
          this.justify(tag, reply.reason, reply.attempts, cancel !== undefined);
        }
      }
    };
    await Promise.all(Array.from({ length: this.options.window }, lane));
  }

  private async runPlain(index: number, share: number): Promise<void> {
    const client = new PlainClient({ endpoint: this.options.endpoint });
    this.plain.push(client);
    const name = `p${index}`;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < share) {
        const tag = makeTag(name, next++);
        this.result.sent++;
        let reply;
        try {
          reply = await client.request([tag], { deadline: this.options.deadline });
        } catch (error) {
          if (error instanceof ClientTimeoutError) {
            this.result.lost.push(tag);
            continue;
          }
          throw error;
        }
        const echoed = reply.ok ? Buffer.from(reply.payload[0] ?? []).toString("utf8") : tag;
        if (!this.first(tag, echoed)) continue;
        if (reply.ok) this.succeeded(tag, reply.payload);
        else this.result.plainFailures.push(tag);
      }
    };
    await Promise.all(Array.from({ length: this.options.window }, lane));
  }

  /** Records the reply of `tag` (which says it answers `claimed`); false for a duplicate or misrouted one. */
  private first(tag: string, claimed: string): boolean {
    if (claimed !== tag) {
      this.result.misrouted.push(`${tag} answered as ${claimed}`);
      return false;
    }
    if (this.answered.has(tag)) {
      this.result.duplicates++;
      return false;
    }
    this.answered.add(tag);
    this.result.replies++;
    return true;
  }

  private succeeded(tag: string, payload: readonly Uint8Array[]): void {
    const echoed = Buffer.from(payload[0] ?? []).toString("utf8");
    if (echoed !== tag || payload.length !== 1) this.result.misrouted.push(`${tag} got the payload of ${echoed}`);
    else if (isPoison(tag)) this.result.unjustified.push(`${tag}: a poison request succeeded`);
    this.result.succeeded++;
  }

  private count(reason: string): void {
    this.result.failures.set(reason, (this.result.failures.get(reason) ?? 0) + 1);
  }

  private justify(tag: string, reason: FailureReason | undefined, attempts: number, cancelled: boolean): void {
    const exhausted = attempts === this.options.tries;
    const ok =
      (reason === "cancelled" && cancelled) ||
      (reason === "worker-failed" && isPoison(tag)) ||
      ((reason === "timeout" || reason === "worker-lost" || reason === "worker-failed") && exhausted);
    if (!ok) this.result.unjustified.push(`${tag}: ${reason ?? "no reason"} after ${attempts} attempt(s)`);
  }
}
