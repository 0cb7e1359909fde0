/**
 * Cluster mode's adapter to NATS JetStream (issue 11): the one entry point the broker's shell imports. The core never
 * imports this folder; DESIGN.md says how each ZTB/1 rule maps onto these calls.
 */
export { ClusterDriver, type ClusterDriverOptions } from "./cluster-driver";
export { connectCluster, type ClusterConnection } from "./connection";
export { watchConnection, type ConnectionChange } from "./connection-status";
export {
  natsConnectionOptions,
  DEFAULT_CONNECT_TIMEOUT,
  type ClusterAuth,
  type ClusterConnectOptions,
  type ClusterTls,
} from "./connect-options";
export {
  AckError,
  ClusterAuthError,
  ClusterConfigError,
  ClusterError,
  ClusterUnreachableError,
  FetchError,
  JetStreamUnavailableError,
  KeptResultsError,
  PublishError,
  StreamConflictError,
  StreamSetupError,
  TaskDecodeError,
  TaskTooLargeError,
} from "./errors";
export { EXHAUSTED_QUEUE, takeExhausted, watchMaxDeliveries, type MaxDeliveries } from "./exhausted-tasks";
export { KeptResults, type KeptResultsSettings } from "./kept-results";
export { msgIdFor, resultKey } from "./keys";
export { LeasedTask } from "./leased-task";
export { clusterNames, serviceToken, type ClusterNames } from "./names";
export { listenForReplies, sendReply } from "./reply-channel";
export type { ClusterEvent, ClusterReply, ClusterRequest, FetchedTask, LeaseId } from "./seam";
export { decodeReply, encodeReply } from "./reply-record";
export { DEFAULT_SETTINGS, type WorkQueueSettings } from "./stream-settings";
export { decodeFrames, decodeTask, encodeFrames, encodeHeaders, TASK_FORMAT, type ClusterTask } from "./task-record";
export { WorkQueue, type Fetched, type Published, type QueueDepth } from "./work-queue";
