/**
 * `ztb broker --cluster`: connects to NATS, opens (or checks) the stream, its consumers and the results bucket, and
 * returns what BrokerServer needs to run the core in cluster mode. Every failure at start is a ClusterError whose
 * message is the one line the CLI prints.
 */
import { ClusterDriver } from "../cluster/cluster-driver";
import { connectCluster, type ClusterConnection } from "../cluster/connection";
import { KeptResults } from "../cluster/kept-results";
import { clusterNames } from "../cluster/names";
import { DEFAULT_SETTINGS } from "../cluster/stream-settings";
import { WorkQueue } from "../cluster/work-queue";
import type { BrokerServerOptions } from "../server/broker-server";
import type { ClusterCommandOptions } from "./cluster-options";

/** One pull waits this long for tasks (a long poll, answered as soon as a task arrives). */
export const PULL_EXPIRES_MS = 5000;
/** The stream's de-duplication window is at least this (JetStream's own default), else --keep-results. */
const MIN_DUPLICATE_WINDOW_MS = 2 * 60_000;

export interface StartedCluster {
  option: NonNullable<BrokerServerOptions["cluster"]>;
  conn: ClusterConnection;
}

export async function startCluster(cluster: ClusterCommandOptions, tries: number | null, keepResults: number): Promise<StartedCluster> {
  const names = clusterNames(cluster.name);
  const conn = await connectCluster({
    servers: cluster.servers,
    name: `ztb-broker ${cluster.brokerId}`,
    ...(cluster.auth === undefined ? {} : { auth: cluster.auth }),
    ...(cluster.tls === undefined ? {} : { tls: cluster.tls }),
  });
  try {
    // A resend with a key must find its task while it is queued or running, and its reply once kept: the window of
    // Msg-Id de-duplication covers at least as long as results are kept.
    const queue = await WorkQueue.open(conn, names, {
      ...DEFAULT_SETTINGS,
      replicas: cluster.replicas,
      duplicateWindow: Math.max(MIN_DUPLICATE_WINDOW_MS, keepResults),
      lease: cluster.lease,
      maxDeliver: tries,
    });
    const results = await KeptResults.open(conn, names, { ttl: Math.max(1000, keepResults), replicas: cluster.replicas });
    return {
      conn,
      option: {
        name: cluster.name,
        broker: cluster.brokerId,
        start: (emit) => new ClusterDriver({ conn, queue, results, brokerId: cluster.brokerId, pullExpires: PULL_EXPIRES_MS, emit }),
      },
    };
  } catch (error) {
    await conn.close();
    throw error;
  }
}
