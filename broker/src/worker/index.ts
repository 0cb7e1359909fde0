/** Public entry point of the worker library (protocol/spec.md §Worker <-> broker). */
export { Worker } from "./worker";
export { LEAVE_GRACE_MS } from "./worker";
export type { TaskHandler, WorkerOptions, WorkerStopReason, WorkerTask } from "./worker";
export { LegacyWorker } from "./legacy-worker";
export type { LegacyTask, LegacyTaskHandler, LegacyWorkerOptions } from "./legacy-worker";
export { NonRetryableError, TaskCancelledError } from "./errors";
export type { StatusListener, WorkerDisconnectReason, WorkerStatus } from "./status";
export type { PayloadLike } from "../peer/frames";
