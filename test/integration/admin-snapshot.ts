/** A minimal monitor for tests (protocol/spec.md §Admin): SNAPSHOT on demand, and polling until a condition holds. */
import { Dealer } from "zeromq";
import { decodeAdminReply, encodeAdmin } from "../../broker/src/codec";
import type { Snapshot } from "../../broker/src/protocol/messages";

const EMPTY = new Uint8Array(0);
const POLL_MS = 20;

export class AdminProbe {
  private readonly socket = new Dealer({ linger: 0, receiveTimeout: 2000 });

  constructor(endpoint: string) {
    this.socket.connect(endpoint);
  }

  /** One SNAPSHOT round trip; callers await each before the next (one pending receive per socket). */
  async snapshot(): Promise<Snapshot> {
    await this.socket.send(encodeAdmin({ type: "snapshot", path: [EMPTY], query: { tasks: { limit: 1 } } }));
    const reply = decodeAdminReply(await this.socket.receive());
    if (reply.type !== "snapshot") throw new Error(`admin answered ${reply.type} to SNAPSHOT`);
    return reply.snapshot;
  }

  /** Polls SNAPSHOT until `ready` holds; rejects after `within` ms with `what` and the last snapshot's workers. */
  async until(what: string, ready: (snapshot: Snapshot) => boolean, within = 5000): Promise<Snapshot> {
    const giveUp = Date.now() + within;
    for (;;) {
      const snapshot = await this.snapshot();
      if (ready(snapshot)) return snapshot;
      if (Date.now() > giveUp) {
        const workers = snapshot.workers.map(({ name, kind, held, done }) => ({ name, kind, held, done }));
        throw new Error(`not within ${within} ms: ${what}; workers: ${JSON.stringify(workers)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  close(): void {
    this.socket.close();
  }
}
