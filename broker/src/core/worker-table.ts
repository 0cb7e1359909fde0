/**
 * Workers by broker-assigned id ("w1", "w2", … never reused) and by ROUTER peer (protocol/spec.md §Worker protocol,
 * §Admin: WorkerView).
 */
import type { RoutingPath } from "../protocol/messages";
import type { PeerKey } from "./api";
import type { Attempt } from "./task-table";
import type { Timer } from "./timer-heap";

export interface Worker {
  readonly id: string;
  readonly peer: PeerKey;
  readonly name: string;
  readonly kind: "modern" | "legacy";
  readonly services: readonly string[];
  readonly capacity: number;
  /** The worker's announced heartbeat interval (modern only). */
  heartbeat: number | null;
  /** Slots taken. Modern: one per open attempt. Legacy: 1 from TASK until it asks again. */
  held: number;
  /** Open attempts by task id (a legacy worker's attempt outlives its slot until the answer or the deadline). */
  readonly attempts: Map<string, Attempt>;
  draining: boolean;
  /** Admin DRAIN retire (since 1.1): DISCONNECT draining goes out once the worker holds nothing. */
  retiring: boolean;
  /** The worker announced DISCONNECT bye with finish (since 1.1): no new task; its give-backs count no attempt. */
  leaving: boolean;
  /** Attempt timeouts in a row (reset by any answer or FAIL): rule 11's count. */
  timeouts: number;
  /** Set while quarantined (rule 11): no task is sent to it until then. */
  quarantinedUntil: number | undefined;
  quarantineTimer: Timer<unknown> | undefined;
  /** Set once the broker forgot the worker, so stale references are recognisable. */
  gone: boolean;
  done: number;
  failed: number;
  lastSeen: number;
  /** When the broker last sent this worker anything (heartbeats fill silences). */
  lastSent: number;
  /** A legacy worker's pending request: the path its next task goes to. */
  legacyPath: RoutingPath | undefined;
  heartbeatTimer: Timer<unknown> | undefined;
  livenessTimer: Timer<unknown> | undefined;
}

export type NewWorker = Pick<Worker, "peer" | "name" | "kind" | "services" | "capacity" | "heartbeat" | "lastSeen">;

export class WorkerTable {
  private readonly byId = new Map<string, Worker>();
  private readonly byPeer = new Map<PeerKey, Worker>();
  private counter = 0;

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Worker | undefined {
    return this.byId.get(id);
  }

  ofPeer(peer: PeerKey): Worker | undefined {
    return this.byPeer.get(peer);
  }

  add(init: NewWorker): Worker {
    this.counter++;
    const worker: Worker = {
      ...init,
      id: `w${this.counter}`,
      held: 0,
      attempts: new Map(),
      draining: false,
      retiring: false,
      leaving: false,
      timeouts: 0,
      quarantinedUntil: undefined,
      quarantineTimer: undefined,
      gone: false,
      done: 0,
      failed: 0,
      lastSent: init.lastSeen,
      legacyPath: undefined,
      heartbeatTimer: undefined,
      livenessTimer: undefined,
    };
    this.byId.set(worker.id, worker);
    this.byPeer.set(worker.peer, worker);
    return worker;
  }

  remove(worker: Worker): void {
    worker.gone = true;
    this.byId.delete(worker.id);
    if (this.byPeer.get(worker.peer) === worker) this.byPeer.delete(worker.peer);
  }

  all(): IterableIterator<Worker> {
    return this.byId.values();
  }
}
