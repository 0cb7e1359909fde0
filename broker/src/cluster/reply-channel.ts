/**
 * Replies travel back to the broker that holds the client's connection: each broker listens on its own core NATS
 * subject (`ztb.<cluster>.reply.<broker-id>`), named in every task it publishes (`Ztb-Origin`). Core NATS is
 * at-most-once: a reply is lost when its origin is down or disconnected at that moment, which is why a reply to a
 * request with a key is also kept (kept-results.ts) and a client resends with its key after failing over.
 */
import type { Subscription } from "@nats-io/transport-node";
import type { ClusterConnection } from "./connection";
import type { ClusterNames } from "./names";

/** Receives every reply sent to `brokerId`; unsubscribe the returned subscription to stop. */
export function listenForReplies(conn: ClusterConnection, names: ClusterNames, brokerId: string, onReply: (reply: Uint8Array) => void): Subscription {
  return conn.nc.subscribe(names.replySubject(brokerId), {
    callback: (error, msg) => {
      if (error === null) onReply(msg.data);
    },
  });
}

/** Sends `reply` to broker `origin` (fire and forget: core NATS). */
export function sendReply(conn: ClusterConnection, names: ClusterNames, origin: string, reply: Uint8Array): void {
  conn.nc.publish(names.replySubject(origin), reply);
}
