/** Bookkeeping shared by both clients: in-flight requests by correlation id, and what became of answered ones. */

export interface ClientStats {
  /** Replies for a request that had already been answered (should stay 0: exactly one reply per request). */
  duplicates: number;
  /** Replies for a request we had given up on (client deadline or abort). */
  late: number;
  /** Replies we cannot attribute (no id, an id we never used) or could not decode. */
  unmatched: number;
  /** Copies a durable broker sent again after a restart, of replies this client already had (dropped). */
  resent: number;
  /** Brokers judged gone and left for the next endpoint (protocol/spec.md §Failing over; 0 with one endpoint). */
  failovers: number;
  /** Requests sent again to the next broker after a failover, with their key. */
  resends: number;
}

type Fate = "answered" | "abandoned";

/** Remembers the last `limit` finished ids so a second reply is classified, without growing forever. */
export class FinishedIds {
  private readonly fates = new Map<string, Fate>();

  constructor(private readonly limit = 100_000) {}

  add(id: string, fate: Fate): void {
    this.fates.set(id, fate);
    if (this.fates.size > this.limit) {
      const oldest = this.fates.keys().next();
      if (oldest.done !== true) this.fates.delete(oldest.value);
    }
  }

  get(id: string): Fate | undefined {
    return this.fates.get(id);
  }

  /** Counts a reply that matched no pending request. */
  classify(id: string | undefined, stats: ClientStats): void {
    const fate = id === undefined ? undefined : this.fates.get(id);
    if (fate === "answered") stats.duplicates++;
    else if (fate === "abandoned") stats.late++;
    else stats.unmatched++;
  }
}

/** Correlation ids: a random per-client prefix and a counter, so two clients' ids do not collide at the broker's log. */
export class IdGenerator {
  private readonly prefix = Math.random().toString(36).slice(2, 8).padEnd(6, "0");
  private counter = 0;

  next(): string {
    return `${this.prefix}-${(this.counter++).toString(36)}`;
  }
}
