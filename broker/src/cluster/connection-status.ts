/**
 * NATS lost and found again while a broker runs (issue 11: the broker stops taking requests with a failure naming the
 * cause, keeps its workers, and resumes when NATS is back). The client library reconnects by itself; this reports
 * the two changes a broker acts on, plus the final close.
 */
import type { ClusterConnection } from "./connection";

export type ConnectionChange =
  /** The connection to `server` dropped; the library is reconnecting (to it or another server of the list). */
  | { kind: "cluster-disconnected"; server: string }
  | { kind: "cluster-reconnected"; server: string }
  /** Closed for good (by `close()`, or an error the library gives up on). */
  | { kind: "cluster-closed"; error: string | null };

/** Calls `onChange` for every change until `stop()` or the close (reported last). */
export function watchConnection(conn: ClusterConnection, onChange: (change: ConnectionChange) => void): { stop(): void } {
  let stopped = false;
  const report = (change: ConnectionChange): void => {
    if (!stopped) onChange(change);
  };
  void (async () => {
    for await (const status of conn.nc.status()) {
      if (status.type === "disconnect") report({ kind: "cluster-disconnected", server: status.server });
      else if (status.type === "reconnect") report({ kind: "cluster-reconnected", server: status.server });
    }
  })();
  void conn.nc.closed().then((error) => report({ kind: "cluster-closed", error: error instanceof Error ? error.message : null }));
  return {
    stop: () => {
      stopped = true;
    },
  };
}
