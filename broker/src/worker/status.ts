/** Status events of the worker libraries, a union keyed on `type`. */
import { EventEmitter } from "node:events";
import type { CancelReason, DisconnectReason } from "../protocol/messages";

export type WorkerDisconnectReason =
  /** The broker sent DISCONNECT with this reason. */
  | DisconnectReason
  /** Nothing from the broker for 3 of its heartbeat intervals (liveness 3). */
  | "broker-silent"
  /** libzmq reported the TCP/IPC connection gone. */
  | "connection-lost"
  /** `close()` was called. */
  | "closed"
  /** `leave()` finished (or the broker refused it as a revision before 1.1). */
  | "left";

export type WorkerStatus =
  /** The socket is connected (libzmq's connect event). */
  | { type: "connected"; endpoint: string }
  /** The broker accepted READY (its first message after READY, normally HEARTBEAT, arrived). */
  | { type: "ready"; brokerHeartbeat: number | null }
  | {
      type: "task";
      id: string;
      service: string;
      attempt: number | null;
      attempts: number | null;
      timeout: number | null;
      payload: Uint8Array[];
    }
  | { type: "cancelled"; id: string; reason: CancelReason }
  | { type: "disconnected"; reason: WorkerDisconnectReason; message?: string; willReconnect: boolean }
  | { type: "reconnecting"; delay: number; attempt: number };

export type StatusListener = (status: WorkerStatus) => void;

/** The `status` event both workers (Worker, LegacyWorker) publish. */
export class StatusEvents {
  private readonly emitter = new EventEmitter();

  on(event: "status", listener: StatusListener): this {
    this.emitter.on(event, listener);
    return this;
  }

  off(event: "status", listener: StatusListener): this {
    this.emitter.off(event, listener);
    return this;
  }

  protected emit(status: WorkerStatus): void {
    this.emitter.emit("status", status);
  }
}
