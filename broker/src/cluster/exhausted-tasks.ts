/**
 * Tasks whose last delivery ran out without a settlement: JetStream stops delivering a message after MaxDeliver
 * deliveries but leaves it in the stream and only announces it with a MAX_DELIVERIES advisory. Usually the broker
 * holding the last delivery settles it itself (it sees `deliveryCount == attempts`); this is for the case where that
 * broker died, so nobody would ever answer the client (spec §Reliability: exactly one reply).
 *
 * Every broker subscribes in one queue group, so each advisory reaches one broker, which takes the message out of the
 * stream (read by sequence, then delete) and answers the client on the origin's reply subject.
 */
import type { Subscription } from "@nats-io/transport-node";
import type { StoredMsg } from "@nats-io/jetstream";
import type { ClusterConnection } from "./connection";
import { StreamSetupError, TaskDecodeError } from "./errors";
import type { ClusterNames } from "./names";
import { decodeTask, type ClusterTask } from "./task-record";

/** Queue group of the advisory subscription: one broker of the cluster handles each advisory. */
export const EXHAUSTED_QUEUE = "ztb-exhausted";

export interface MaxDeliveries {
  stream: string;
  consumer: string;
  streamSeq: number;
  deliveries: number;
}

/** The advisory's members this adapter reads (io.nats.jetstream.advisory.v1.max_deliver). */
interface MaxDeliverAdvisory {
  stream?: unknown;
  consumer?: unknown;
  stream_seq?: unknown;
  deliveries?: unknown;
}

function parseAdvisory(data: Uint8Array): MaxDeliveries | undefined {
  let advisory: MaxDeliverAdvisory;
  try {
    advisory = JSON.parse(Buffer.from(data).toString("utf8")) as MaxDeliverAdvisory;
  } catch {
    return undefined;
  }
  const { stream, consumer, stream_seq: streamSeq, deliveries } = advisory;
  if (typeof stream !== "string" || typeof consumer !== "string" || typeof streamSeq !== "number" || typeof deliveries !== "number") {
    return undefined;
  }
  return { stream, consumer, streamSeq, deliveries };
}

/**
 * Calls `onAdvisory` for each MAX_DELIVERIES advisory of the task stream that reaches this broker; returns the
 * subscription (unsubscribe to stop).
 */
export function watchMaxDeliveries(conn: ClusterConnection, names: ClusterNames, onAdvisory: (advisory: MaxDeliveries) => void): Subscription {
  return conn.nc.subscribe(names.maxDeliveriesSubject, {
    queue: EXHAUSTED_QUEUE,
    callback: (error, msg) => {
      if (error !== null) return;
      const advisory = parseAdvisory(msg.data);
      if (advisory !== undefined) onAdvisory(advisory);
    },
  });
}

/**
 * Removes an exhausted task from the stream and returns it, or null when it is already gone (another broker took it,
 * or it was settled after all). The read comes before the delete: a broker that dies in between leaves it for the
 * next advisory-less sweep rather than losing the client's answer.
 */
export async function takeExhausted(conn: ClusterConnection, names: ClusterNames, streamSeq: number): Promise<ClusterTask | null> {
  let stored: StoredMsg | null;
  try {
    stored = await conn.jsm.streams.getMessage(names.stream, { seq: streamSeq });
  } catch (error) {
    throw new StreamSetupError(`cannot read message ${streamSeq} of ${names.stream}: ${(error as Error).message}`, { cause: error });
  }
  if (stored === null) return null;
  let task: ClusterTask | null;
  try {
    task = decodeTask(stored.header, stored.data);
  } catch (error) {
    if (!(error instanceof TaskDecodeError)) throw error;
    task = null;
  }
  let deleted: boolean;
  try {
    deleted = await conn.jsm.streams.deleteMessage(names.stream, streamSeq, false);
  } catch {
    deleted = false;
  }
  // Only the broker whose delete succeeded answers: two brokers racing on one advisory answer once.
  return deleted ? task : null;
}
