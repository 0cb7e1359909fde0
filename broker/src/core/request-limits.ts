/**
 * What a client is told about the broker's limits (protocol/spec.md §Limits discovery) and why its request's
 * deadline ended it (§Request deadlines). Pure functions of the core's state; the rules that use them live in
 * broker-core.ts.
 */
import { DEFAULT_BOUNDS } from "../protocol/limits";
import type { BrokerLimits } from "../protocol/messages";
import type { CoreConfig } from "./api";
import type { Task } from "./task-table";

/** The REPLY `limits` member: the broker's configuration as it applies to requests. */
export function limitsOf(config: CoreConfig, keepResults: number): BrokerLimits {
  const bounds = config.bounds ?? DEFAULT_BOUNDS;
  return {
    timeout: config.timeout,
    attempts: config.tries,
    deadline: config.deadline ?? null,
    maxQueue: config.maxQueue,
    keepResults,
    maxMessage: bounds.maxOctets,
    maxFrames: bounds.maxFrames,
  };
}

/**
 * The REPLY `message` of a request whose deadline passed. It names the cause a client can act on: nobody serves the
 * service (`workers` = registered workers serving it), its workers were all busy, or the attempt ran too long.
 */
export function expiredMessage(task: Task, now: number, workers: number): string {
  const waited = now - task.createdAt;
  const attempt = task.current;
  if (attempt !== undefined) {
    return `the deadline passed after ${waited} ms, while attempt ${attempt.number} ran on worker ${attempt.worker.name}`;
  }
  if (workers === 0) return `no worker serves "${task.service}": the deadline passed after ${waited} ms in the queue`;
  const retried = task.attempts > 0 ? ` after ${task.attempts} attempt${task.attempts === 1 ? "" : "s"}` : "";
  return `the deadline passed after ${waited} ms in the queue${retried}: the ${workers} worker${workers === 1 ? "" : "s"} serving "${task.service}" had no free slot`;
}
