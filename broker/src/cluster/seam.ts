/**
 * The core's cluster seam, as the adapter sees it: the types live in the core (broker/src/core/cluster.ts), because
 * the core must not import this folder; this file only re-exports them for the adapter and its tests.
 */
export type { ClusterEvent, ClusterReply, ClusterRequest, ClusterTask, FetchedTask, LeaseId } from "../core/cluster";
