/**
 * Performs `ClusterRequest`s with the adapter and reports `ClusterEvent`s: the thin shell between a sans-I/O core
 * and JetStream. It holds the leased messages by lease id (the core holds only the ids), listens on this broker's
 * reply subject, handles the max-deliveries advisories that reach it, and reports the connection lost and back.
 * One `switch`, one adapter call per request.
 */
import type { Subscription } from "@nats-io/transport-node";
import type { ClusterConnection } from "./connection";
import { watchConnection } from "./connection-status";
import { takeExhausted, watchMaxDeliveries } from "./exhausted-tasks";
import type { KeptResults } from "./kept-results";
import type { LeasedTask } from "./leased-task";
import { listenForReplies, sendReply } from "./reply-channel";
import type { ClusterEvent, ClusterRequest, LeaseId } from "./seam";
import type { WorkQueue } from "./work-queue";

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
  private readonly subscriptions: Subscription[];
  private readonly connectionWatch: { stop(): void };
  private readonly renewal: ReturnType<typeof setInterval>;

  constructor(private readonly options: ClusterDriverOptions) {
    const { conn, queue, brokerId, emit } = options;
    this.connectionWatch = watchConnection(conn, emit);
    this.renewal = setInterval(() => {
      for (const leased of this.leases.values()) leased.working();
    }, options.renewEvery ?? queue.settings.lease / 3);
    // The renewal alone must not keep a process alive that has nothing else to do.
    this.renewal.unref();
    this.subscriptions = [
      listenForReplies(conn, queue.names, brokerId, (reply) => emit({ kind: "cluster-reply-received", reply })),
      watchMaxDeliveries(conn, queue.names, (advisory) => {
        takeExhausted(conn, queue.names, advisory.streamSeq).then(
          (task) => {
            if (task !== null) emit({ kind: "cluster-exhausted", task, deliveries: advisory.deliveries });
          },
          (error: unknown) => emit({ kind: "cluster-warning", message: `exhausted task ${advisory.streamSeq}: ${message(error)}` }),
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
    const { conn, queue, results, emit } = this.options;
    switch (request.kind) {
      case "cluster-publish":
        queue.publish(request.task).then(
          (published) => emit({ kind: "cluster-published", task: request.task.task, seq: published.seq, duplicate: published.duplicate }),
          (error: unknown) => emit({ kind: "cluster-publish-failed", task: request.task.task, error: message(error) }),
        );
        return;
      case "cluster-fetch":
        queue.fetch(request.service, request.count, this.options.pullExpires).then(
          ({ tasks, foreign }) => {
            for (const error of foreign) emit({ kind: "cluster-warning", message: error.message });
            for (const leased of tasks) this.leases.set(leased.leaseId, leased);
            emit({
              kind: "cluster-fetched",
              service: request.service,
              asked: request.count,
              tasks: tasks.map((leased) => ({ lease: leased.leaseId, deliveryCount: leased.deliveryCount, task: leased.record })),
            });
          },
          (error: unknown) => emit({ kind: "cluster-fetch-failed", service: request.service, asked: request.count, error: message(error) }),
        );
        return;
      case "cluster-ack": {
        const leased = this.take(request.lease);
        leased?.ack().catch((error: unknown) => emit({ kind: "cluster-ack-failed", lease: request.lease, error: message(error) }));
        return;
      }
      case "cluster-nak":
        this.take(request.lease)?.nak(request.delay);
        return;
      case "cluster-term":
        this.take(request.lease)?.term();
        return;
      case "cluster-working":
        this.leases.get(request.lease)?.working();
        return;
      case "cluster-keep-result":
        results.put(request.key, request.value).catch((error: unknown) => emit({ kind: "cluster-result-failed", key: request.key, error: message(error) }));
        return;
      case "cluster-lookup-result":
        results.get(request.key).then(
          (value) => emit({ kind: "cluster-result", key: request.key, value }),
          (error: unknown) => emit({ kind: "cluster-result-failed", key: request.key, error: message(error) }),
        );
        return;
      case "cluster-reply":
        sendReply(conn, queue.names, request.origin, request.reply);
        return;
      case "cluster-depth":
        queue.depth(request.service).then(
          (depth) => emit({ kind: "cluster-depth", service: request.service, ...depth }),
          (error: unknown) => emit({ kind: "cluster-warning", message: message(error) }),
        );
        return;
      default: {
        const never: never = request;
        throw new Error(`unknown cluster request ${JSON.stringify(never)}`);
      }
    }
  }

  /** Stops listening and renewing; leases still held come back to the queue after their AckWait (or nak them first). */
  close(): void {
    clearInterval(this.renewal);
    this.connectionWatch.stop();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  private take(lease: LeaseId): LeasedTask | undefined {
    const leased = this.leases.get(lease);
    this.leases.delete(lease);
    return leased;
  }
}
