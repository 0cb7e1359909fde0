/** Shared pieces of the cluster tests: tasks, a connection to a harness server, queues with test-sized settings. */
import {
  clusterNames,
  connectCluster,
  DEFAULT_SETTINGS,
  WorkQueue,
  type ClusterConnection,
  type ClusterTask,
  type LeasedTask,
  type WorkQueueSettings,
} from "../../broker/src/cluster";
import type { NatsCluster } from "./nats-harness";

let clusterCounter = 0;

/** A cluster name no other test of this run uses: its own stream, consumers and bucket. */
export function freshClusterName(label: string): string {
  clusterCounter += 1;
  return `${label}${clusterCounter}`;
}

export function task(id: string, overrides: Partial<ClusterTask> = {}): ClusterTask {
  return {
    task: id,
    service: "default",
    key: null,
    timeout: null,
    attempts: null,
    origin: "broker-a",
    client: "peer-1",
    accepted: 1_767_225_600_000,
    payload: [Buffer.from(`payload of ${id}`)],
    ...overrides,
  };
}

export function connectTo(cluster: NatsCluster, name = "ztb-test"): Promise<ClusterConnection> {
  return connectCluster({ servers: cluster.urls, name });
}

/** Settings small enough for tests: leases of seconds, not the default 30 s. */
export function testSettings(overrides: Partial<WorkQueueSettings> = {}): WorkQueueSettings {
  return { ...DEFAULT_SETTINGS, lease: 2000, ...overrides };
}

export function openQueue(conn: ClusterConnection, label: string, overrides: Partial<WorkQueueSettings> = {}): Promise<WorkQueue> {
  return WorkQueue.open(conn, clusterNames(freshClusterName(label)), testSettings(overrides));
}

/** Fetches until one task arrives or `tries` pulls of 1 s came back empty. */
/** How long one pull of fetchOne waits for a task. */
const PULL_MS = 5000;

export async function fetchOne(queue: WorkQueue, service = "default", tries = 10): Promise<LeasedTask> {
  for (let i = 0; i < tries; i++) {
    // A pull of 5 s (the library's idle heartbeat is half of it): a test process stalled for a second on a busy
    // machine must not end the pull with "heartbeats missed". It returns as soon as a task is there.
    const { tasks } = await queue.fetch(service, 1, PULL_MS);
    const first = tasks[0];
    if (first !== undefined) return first;
  }
  throw new Error(`no task of ${service} after ${tries} pulls`);
}

export function text(frame: Uint8Array | undefined): string {
  return frame === undefined ? "(none)" : Buffer.from(frame).toString("utf8");
}
