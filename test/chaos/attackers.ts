/**
 * Hostile peers for the attack mode of `npm run chaos` (issue 14): each one runs until stopped, sends at a bounded
 * rate, and counts what it sent. They speak through the codec's encoders, so what they send is exactly what the
 * spec's frames are (or, for the frame flood, deliberately more of them than `--max-frames` allows).
 */
import { Dealer } from "zeromq";
import { encodeAdmin, encodeClient, encodeWorker } from "../../broker/src/codec";

const DELIMITER = Buffer.alloc(0);

export interface Attacker {
  readonly name: string;
  /** Messages sent so far. */
  readonly sent: number;
  stop(): void;
}

/** Calls `send` every `everyMs` until stopped; a send that cannot complete (peer at its mark) is skipped, not queued. */
class Loop implements Attacker {
  sent = 0;
  private readonly timer: NodeJS.Timeout;
  private busy = false;

  constructor(
    readonly name: string,
    readonly socket: Dealer,
    everyMs: number,
    private readonly next: () => Uint8Array[],
  ) {
    this.timer = setInterval(() => void this.tick(), everyMs);
  }

  private async tick(): Promise<void> {
    if (this.busy || this.socket.closed) return;
    this.busy = true;
    try {
      await this.socket.send(this.next());
      this.sent++;
    } catch {
      // EAGAIN at the high-water mark (sendTimeout 0): the broker is not reading us; try again next tick.
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.socket.close();
  }
}

/** A DEALER that never reads: libzmq keeps at most `receiveHighWaterMark` messages for it, then TCP pushes back. */
function deafDealer(endpoint: string): Dealer {
  const socket = new Dealer({ linger: 0, sendTimeout: 0, receiveHighWaterMark: 1, sendHighWaterMark: 1000 });
  socket.connect(endpoint);
  return socket;
}

/** Requests of `frames` empty frames: over --max-frames, each is refused with ZTB_ERR_TOO_LARGE after it arrived. */
export function frameFlood(clients: string, frames: number, everyMs: number): Attacker {
  const payload = Array.from({ length: frames }, () => DELIMITER);
  let n = 0;
  return new Loop("frame flood", deafDealer(clients), everyMs, () =>
    encodeClient({ type: "request", path: [DELIMITER], options: { id: `flood-${n++}` }, payload }),
  );
}

/** Requests a worker answers, of `size` octets, whose replies it never reads: the broker's unsent budgets hold them. */
export function deafClient(clients: string, size: number, everyMs: number): Attacker {
  const payload = [Buffer.alloc(size, 0x61)];
  let n = 0;
  return new Loop("non-reading client", deafDealer(clients), everyMs, () =>
    encodeClient({ type: "request", path: [DELIMITER], options: { id: `deaf-${n++}` }, payload }),
  );
}

/** A monitor asking for 500-task SNAPSHOT pages that it never reads. */
export function deafMonitor(admin: string, everyMs: number): Attacker {
  return new Loop("non-reading monitor", deafDealer(admin), everyMs, () =>
    encodeAdmin({ type: "snapshot", path: [DELIMITER], query: { tasks: { limit: 500 } } }),
  );
}

/** Requests for a new, invented service each time: they share one --max-queue, then get queue-full. */
export function inventedServices(clients: string, size: number, everyMs: number): Attacker {
  const payload = [Buffer.alloc(size, 0x62)];
  let n = 0;
  return new Loop("invented services", deafDealer(clients), everyMs, () =>
    encodeClient({ type: "request", path: [DELIMITER], options: { id: `svc-${n}`, service: `invented-${n++}` }, payload }),
  );
}

/**
 * A worker that announces a large capacity and heartbeats but never reads a task nor answers: its attempts time out
 * and it is quarantined (spec rule 11), its retries go elsewhere.
 */
export async function blackHoleWorker(workers: string, heartbeat: number): Promise<Attacker> {
  const socket = deafDealer(workers);
  await socket.send(encodeWorker({ type: "ready", options: { name: "black-hole", capacity: 1000, heartbeat } }));
  return new Loop("black-hole worker", socket, heartbeat, () => encodeWorker({ type: "heartbeat", interval: heartbeat }));
}
