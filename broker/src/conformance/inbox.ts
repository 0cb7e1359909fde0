/** Everything a peer sent the checker, in arrival order, each message decoded by the codec (or its ProtocolError). */
import { ProtocolError } from "../codec";
import type { Frame } from "../protocol/messages";

export interface Seen<M> {
  /** Arrival, ms since the checker started. */
  at: number;
  /** The sending connection: its ROUTER routing id in hex (empty on a PULL socket). */
  peer: string;
  /** The frames after the routing id. */
  frames: Frame[];
  msg?: M;
  error?: ProtocolError;
}

type Waiter<M> = { from: number; match: (seen: Seen<M>) => boolean; resolve: (seen: Seen<M> | undefined) => void };

export class Inbox<M> {
  readonly log: Seen<M>[] = [];
  private readonly waiters = new Set<Waiter<M>>();

  constructor(
    private readonly decode: (frames: Frame[]) => M,
    private readonly clock: () => number,
  ) {}

  /** Records one message; decoding errors other than ProtocolError are the checker's own bugs and propagate. */
  push(peer: string, frames: Frame[]): Seen<M> {
    const seen: Seen<M> = { at: this.clock(), peer, frames };
    try {
      seen.msg = this.decode(frames);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      seen.error = error;
    }
    this.log.push(seen);
    for (const waiter of this.waiters) {
      if (this.log.length - 1 >= waiter.from && waiter.match(seen)) {
        this.waiters.delete(waiter);
        waiter.resolve(seen);
      }
    }
    return seen;
  }

  /** Index the next message will get: pass it to `next` to see only what arrives from now on. */
  get mark(): number {
    return this.log.length;
  }

  /** The first message at index >= `from` that matches, waiting up to `timeoutMs`; undefined on timeout. */
  next(match: (seen: Seen<M>) => boolean, timeoutMs: number, from = 0): Promise<Seen<M> | undefined> {
    const found = this.log.slice(from).find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter: Waiter<M> = {
        from,
        match,
        resolve: (seen) => {
          clearTimeout(timer);
          resolve(seen);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Messages the codec refused. */
  errors(): Seen<M>[] {
    return this.log.filter((seen) => seen.error !== undefined);
  }
}
