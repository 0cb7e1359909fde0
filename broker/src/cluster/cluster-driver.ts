/**
 * Performs the core's `ClusterRequest`s with the adapter and reports `ClusterEvent`s: the thin shell between the
 * sans-I/O core and JetStream. It holds the leased messages by lease id (the core holds only the ids) and renews them,
 * listens on this broker's reply subject and the cancel subject, handles the max-deliveries advisories that reach it,
 * polls nothing on its own, and reports the connection lost and back. One `switch`, one adapter call per request.
 */
import type { Subscription } from "@nats-io/transport-node";
import { broadcastCancel, listenForCancels } from "./cancel-channel";
import type { ClusterConnection } from "./connection";
import { watchConnection } from "./connection-status";
import { FetchError } from "./errors";
import { takeExhausted, watchMaxDeliveries } from "./exhausted-tasks";
import { scopedKey } from "./keys";
import type { KeptResults } from "./kept-results";
import type { LeasedTask } from "./leased-task";
import { listenForReplies, sendReply } from "./reply-channel";
import { decodeReply, encodeReply } from "./reply-record";
import type { ClusterEvent, ClusterReply, ClusterRequest, LeaseId } from "./seam";
import type { WorkQueue } from "./work-queue";

/** A failed watch of a kept result is started again after this long, ms. */
export const WATCH_RETRY_MS = 1000;

export interface ClusterDriverOptions {
  conn: ClusterConnection;
  queue: WorkQueue;
  results: KeptResults;
  /** This broker's id: its reply subject, and the `origin` of the tasks it publishes. */
  brokerId: string;
  /** How long one pull waits for tasks, ms: a long poll, answered early as soon as tasks arrive. */
  pullExpires: number;
  /**
   * Every held lease is renewed (`working()`) this often, ms; default a third of the queue's lease. While this
   * process lives its tasks stay with it, whatever their attempt timeout (none, for a task without `-T`); the core
   * ends a lease when the attempt ends, and at once when the worker dies (rule 5). When the process dies, renewal
   * stops and its tasks come back one lease later.
   */
  renewEvery?: number;
  emit: (event: ClusterEvent) => void;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ClusterDriver {
  private readonly leases = new Map<LeaseId, LeasedTask>();
  private readonly watches = new Map<string, () => void>();
  private readonly subscriptions: Subscription[];
  private readonly connectionWatch: { stop(): void };
  private readonly renewal: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(private readonly options: ClusterDriverOptions) {
    const { conn, queue, brokerId } = options;
    this.connectionWatch = watchConnection(conn, (change) => {
      if (change.kind !== "cluster-closed") this.emit(change);
    });
    this.renewal = setInterval(() => {
      for (const leased of this.leases.values()) leased.working();
    }, options.renewEvery ?? queue.settings.lease / 3);
    // The renewal alone must not keep a process alive that has nothing else to do.
    this.renewal.unref();
    this.subscriptions = [
      listenForReplies(conn, queue.names, brokerId, (bytes) => {
        const reply = this.decode(bytes, "reply");
        if (reply !== undefined) this.emit({ kind: "cluster-reply-received", reply });
      }),
      listenForCancels(conn, queue.names, (origin, task) => this.emit({ kind: "cluster-cancelled", origin, task })),
      watchMaxDeliveries(conn, queue.names, (advisory) => {
        takeExhausted(conn, queue.names, advisory.streamSeq).then(
          (task) => {
            if (task !== null) this.emit({ kind: "cluster-exhausted", task, deliveries: advisory.deliveries });
          },
          (error: unknown) => this.emit({ kind: "cluster-warning", message: `exhausted task ${advisory.streamSeq}: ${message(error)}` }),
        );
      }),
    ];
  }

  /** Leases this broker holds (fetched, not yet acked, nak'ed or terminated). */
  get held(): number {
    return this.leases.size;
  }

  /** Starts the request; its outcome, if any, arrives through `emit`. Never throws. */
  perform(request: ClusterRequest): void {
    const { conn, queue, results, brokerId } = this.options;
    switch (request.kind) {
      case "cluster-publish":
        queue.publish(request.task).then(
          (published) => this.emit({ kind: "cluster-published", task: request.task.task, seq: published.seq, duplicate: published.duplicate }),
          (error: unknown) => this.emit({ kind: "cluster-publish-failed", task: request.task.task, error: message(error) }),
        );
        return;
      case "cluster-fetch": {
        const { service, count } = request;
        const onTask = (leased: LeasedTask): void => {
          if (this.closed) return leased.nak();
          this.leases.set(leased.leaseId, leased);
          this.emit({ kind: "cluster-fetched", service, tasks: [{ lease: leased.leaseId, deliveryCount: leased.deliveryCount, task: leased.record }] });
        };
        queue.pull(service, count, this.options.pullExpires, onTask).then(
          ({ delivered, foreign }) => {
            for (const error of foreign) this.emit({ kind: "cluster-warning", message: error.message });
            this.emit({ kind: "cluster-fetch-ended", service, unfilled: count - delivered });
          },
          (error: unknown) =>
            this.emit({ kind: "cluster-fetch-failed", service, unfilled: count - (error instanceof FetchError ? error.delivered : 0), error: message(error) }),
        );
        return;
      }
      case "cluster-settle": {
        const leased = this.take(request.lease);
        if (leased === undefined) return;
        // Keep first, then settle: a task that left the queue always has its reply kept. If keeping fails the task is
        // given back and runs again (at least once), rather than acked with nothing to answer a resend.
        const keep = request.keep;
        const kept = keep === undefined ? Promise.resolve() : results.put(scopedKey(keep.reply.service, keep.key), encodeReply(keep.reply));
        kept.then(
          () => {
            if (!request.ack) return leased.term();
            leased.ack().catch((error: unknown) => this.emit({ kind: "cluster-warning", message: message(error) }));
          },
          (error: unknown) => {
            leased.nak();
            this.emit({ kind: "cluster-warning", message: message(error) });
          },
        );
        return;
      }
      case "cluster-keep":
        results.put(scopedKey(request.reply.service, request.key), encodeReply(request.reply)).catch((error: unknown) => this.emit({ kind: "cluster-warning", message: message(error) }));
        return;
      case "cluster-nak":
        this.take(request.lease)?.nak(request.delay);
        return;
      case "cluster-drop":
        this.take(request.lease);
        return;
      case "cluster-reply":
        sendReply(conn, queue.names, request.origin, encodeReply(request.reply));
        return;
      case "cluster-await-result": {
        const key = scopedKey(request.service, request.key);
        if (!this.watches.has(key)) this.awaitResult(request.service, request.key, key);
        return;
      }
      case "cluster-stop-awaiting": {
        const key = scopedKey(request.service, request.key);
        this.watches.get(key)?.();
        this.watches.delete(key);
        return;
      }
      case "cluster-cancel":
        if (request.seq !== undefined) void queue.remove(request.seq);
        broadcastCancel(conn, queue.names, brokerId, request.task);
        return;
      case "cluster-depth":
        void this.depth(request.services);
        return;
      default: {
        const never: never = request;
        throw new Error(`unknown cluster request ${JSON.stringify(never)}`);
      }
    }
  }

  /** Stops pulling, listening and renewing. Held leases are given back (nak) so other brokers run them at once. */
  close(): void {
    this.closed = true;
    clearInterval(this.renewal);
    this.connectionWatch.stop();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    for (const stop of this.watches.values()) stop();
    this.watches.clear();
    for (const leased of this.leases.values()) leased.nak();
    this.leases.clear();
  }

  /**
   * Watches the kept result of a key until it comes or the core stops waiting. A watch that fails (NATS lost, a leader
   * re-elected) is started again a moment later: the request waiting for it has no other way to its reply.
   */
  private awaitResult(service: string, clientKey: string, key: string): void {
    const stop = this.options.results.watch(
      key,
      (bytes) => {
        this.watches.delete(key);
        const reply = this.decode(bytes, "kept result");
        if (reply !== undefined) this.emit({ kind: "cluster-result", service, key: clientKey, reply });
      },
      (error) => {
        this.emit({ kind: "cluster-warning", message: error.message });
        const retry = setTimeout(() => {
          if (this.watches.get(key) === cancel) this.awaitResult(service, clientKey, key);
        }, WATCH_RETRY_MS);
        retry.unref();
      },
    );
    const cancel = (): void => stop();
    this.watches.set(key, cancel);
  }

  private emit(event: ClusterEvent): void {
    if (!this.closed) this.options.emit(event);
  }

  private decode(bytes: Uint8Array, what: string): ClusterReply | undefined {
    try {
      return decodeReply(bytes);
    } catch (error) {
      this.emit({ kind: "cluster-warning", message: `a ${what} that is not ztb's: ${message(error)}` });
      return undefined;
    }
  }

  private async depth(services: string[]): Promise<void> {
    const depth: Record<string, { waiting: number; running: number }> = {};
    for (const service of services) {
      try {
        depth[service] = await this.options.queue.depth(service);
      } catch {
        // A service never served has no consumer yet only if depth could not create it: skip it this time.
      }
    }
    this.emit({ kind: "cluster-depth", depth });
  }

  private take(lease: LeaseId): LeasedTask | undefined {
    const leased = this.leases.get(lease);
    this.leases.delete(lease);
    return leased;
  }
}
