/**
 * A client's CANCEL reaches the broker holding its task: the origin broadcasts `{origin, task}` on the cluster's
 * cancel subject (core NATS, at most once) and every broker checks whether it holds that task. A lost broadcast
 * leaves the task running to its end; its reply is then dropped by the origin, which already answered the client.
 */
import type { Subscription } from "@nats-io/transport-node";
import type { ClusterConnection } from "./connection";
import type { ClusterNames } from "./names";

export function broadcastCancel(conn: ClusterConnection, names: ClusterNames, origin: string, task: string): void {
  conn.nc.publish(names.cancelSubject, JSON.stringify({ origin, task }));
}

export function listenForCancels(conn: ClusterConnection, names: ClusterNames, onCancel: (origin: string, task: string) => void): Subscription {
  return conn.nc.subscribe(names.cancelSubject, {
    callback: (error, msg) => {
      if (error !== null) return;
      let body: { origin?: unknown; task?: unknown };
      try {
        body = msg.json<{ origin?: unknown; task?: unknown }>();
      } catch {
        return;
      }
      if (typeof body.origin === "string" && typeof body.task === "string") onCancel(body.origin, body.task);
    },
  });
}
