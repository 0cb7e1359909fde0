/**
 * Kept results: the reply to a request with an idempotency key, stored for `ttl` ms in a JetStream key-value bucket,
 * so a client that resends its key to any broker (after its own broker died) is answered without running the task
 * again. The value is opaque here; the broker stores the encoded reply.
 */
import { Kvm, type KV } from "@nats-io/kv";
import { StorageType } from "@nats-io/jetstream";
import type { ClusterConnection } from "./connection";
import { KeptResultsError, StreamConflictError } from "./errors";
import { resultKey } from "./keys";
import type { ClusterNames } from "./names";

export interface KeptResultsSettings {
  /** How long a result is kept, ms (the bucket's max age: JetStream removes older entries by itself). */
  ttl: number;
  replicas: number;
}

export class KeptResults {
  private constructor(
    private readonly kv: KV,
    readonly bucket: string,
  ) {}

  /** Creates the bucket or opens the existing one, refusing one whose TTL or replicas differ. */
  static async open(conn: ClusterConnection, names: ClusterNames, settings: KeptResultsSettings): Promise<KeptResults> {
    let kv: KV;
    try {
      kv = await new Kvm(conn.js).create(names.resultsBucket, {
        ttl: settings.ttl,
        replicas: settings.replicas,
        history: 1,
        storage: StorageType.File,
      });
    } catch (error) {
      throw new KeptResultsError(`cannot open results bucket ${names.resultsBucket}: ${(error as Error).message}`, { cause: error });
    }
    const status = await kv.status();
    const differences: string[] = [];
    if (status.ttl !== settings.ttl) differences.push(`ttl ${status.ttl} ms, want ${settings.ttl}`);
    if (status.replicas !== settings.replicas) differences.push(`replicas ${status.replicas}, want ${settings.replicas}`);
    if (differences.length > 0) {
      throw new StreamConflictError(
        `KV_${names.resultsBucket}`,
        differences,
        `results bucket ${names.resultsBucket} exists with other settings (${differences.join("; ")}): ztb will not change it`,
      );
    }
    return new KeptResults(kv, names.resultsBucket);
  }

  /** Keeps `value` under the client's key (replacing an earlier one); resolves once stored. */
  async put(key: string, value: Uint8Array): Promise<void> {
    try {
      await this.kv.put(resultKey(key), value);
    } catch (error) {
      throw new KeptResultsError(`cannot keep the result of key ${JSON.stringify(key)}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The kept value, or null when there is none (never kept, or older than the TTL). */
  async get(key: string): Promise<Uint8Array | null> {
    try {
      const entry = await this.kv.get(resultKey(key));
      if (entry === null || entry.operation !== "PUT") return null;
      return entry.value;
    } catch (error) {
      throw new KeptResultsError(`cannot read the result of key ${JSON.stringify(key)}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Calls `onValue` once with the kept value of `key`: the one there now, or the first put later (a resend waiting
   * for a task another broker runs). Returns a stop function; errors end the watch and are reported to `onError`.
   */
  watch(key: string, onValue: (value: Uint8Array) => void, onError: (error: Error) => void): () => void {
    let stopped = false;
    let stop = (): void => {
      stopped = true;
    };
    this.kv.watch({ key: resultKey(key) }).then(
      async (watcher) => {
        stop = () => {
          stopped = true;
          watcher.stop();
        };
        if (stopped) return watcher.stop();
        for await (const entry of watcher) {
          if (stopped) break;
          if (entry.operation === "PUT") {
            stopped = true;
            watcher.stop();
            onValue(entry.value);
          }
        }
        // Ended by the connection, not by us or a value: the waiting request still needs its reply.
        if (!stopped) onError(new KeptResultsError(`the watch of key ${JSON.stringify(key)} ended without its result`));
      },
      (error: unknown) => onError(new KeptResultsError(`cannot watch the result of key ${JSON.stringify(key)}: ${(error as Error).message}`, { cause: error })),
    );
    return () => stop();
  }
}
