/**
 * A task fetched from the stream and held by this broker until it is acked, nak'ed or terminated, or its lease
 * (the consumer's AckWait) runs out. The four settlements are the ZTB/1 attempt endings (DESIGN.md §Rules):
 * `ack` = answered, `nak` = retry (retryable FAIL, timeout, worker lost), `term` = never again (non-retryable FAIL,
 * CANCEL, attempts exhausted), `working` = the lease renewed (EXTEND, or a live worker on a task without `-T`).
 */
import type { JsMsg } from "@nats-io/jetstream";
import { AckError } from "./errors";
import type { ClusterTask } from "./task-record";

export class LeasedTask {
  private settled = false;

  constructor(
    readonly record: ClusterTask,
    private readonly msg: JsMsg,
  ) {}

  /** Deliveries of this message so far, this one included (1 on the first attempt): ZTB/1's attempt number. */
  get deliveryCount(): number {
    return this.msg.info.deliveryCount;
  }

  /** The message's sequence in the stream: the same for every delivery, unlike the delivery sequence. */
  get streamSeq(): number {
    return this.msg.seq;
  }

  /** A stable id for this delivery (a shell hands it to the core instead of the message object). */
  get leaseId(): string {
    return `${this.msg.seq}.${this.msg.info.deliveryCount}`;
  }

  /** True once ack, nak or term was sent: a second settlement would be ignored by the server. */
  get isSettled(): boolean {
    return this.settled;
  }

  /**
   * Done: the message leaves the work-queue stream. Waits for the server's confirmation, so when this resolves no
   * other broker will get the task again; throws AckError when unconfirmed (the lease may still run out and the task
   * come back: the kept result answers its second run).
   */
  async ack(timeout = 5000): Promise<void> {
    this.settled = true;
    let confirmed: boolean;
    try {
      confirmed = await this.msg.ackAck({ timeout });
    } catch (error) {
      throw new AckError(`ack of stream message ${this.msg.seq} not confirmed`, { cause: error });
    }
    if (!confirmed) throw new AckError(`ack of stream message ${this.msg.seq} not confirmed (already settled or lease expired)`);
  }

  /** Give it back for another attempt, after `delay` ms (0: at once). Not confirmed by the server. */
  nak(delay = 0): void {
    this.settled = true;
    if (delay > 0) this.msg.nak(delay);
    else this.msg.nak();
  }

  /** Never deliver it again; the message leaves the stream. Not confirmed by the server. */
  term(): void {
    this.settled = true;
    // No reason text: it needs nats-server 2.11, and 2.9 would not read "+TERM <reason>" as a term.
    this.msg.term();
  }

  /** Renew the lease: AckWait starts again from now. */
  working(): void {
    this.msg.working();
  }
}
