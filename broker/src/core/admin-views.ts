/**
 * The monitor's view of tasks and workers (protocol/spec.md §Admin: TaskView, WorkerView, INSPECT). Pure functions
 * of the tables; the rules that change them live in broker-core.ts.
 */
import { frameView } from "../codec";
import type { FrameView, TaskInspection, TaskView, WorkerView } from "../protocol/messages";
import type { Task } from "./task-table";
import type { Worker } from "./worker-table";

/** §Admin: a TaskView's preview shows the first 64 bytes of the request. */
export const PREVIEW_BYTES = 64;
/** §Admin INSPECT: request and reply frames together are cut at 64 KiB. */
export const INSPECT_BYTES = 64 * 1024;

const EMPTY = new Uint8Array(0);

export function taskView(task: Task): TaskView {
  const view: TaskView = {
    id: task.id,
    service: task.service,
    state: task.state,
    attempt: task.attempts,
    attempts: task.maxAttempts,
    worker: task.lastWorker?.id ?? null,
    origin: task.origin,
    createdAt: task.createdAt,
    size: task.size,
    preview: frameView(task.payload[0] ?? EMPTY, PREVIEW_BYTES),
  };
  if (task.dispatchedAt !== undefined) view.dispatchedAt = task.dispatchedAt;
  if (task.finishedAt !== undefined) view.finishedAt = task.finishedAt;
  if (task.reason !== undefined) view.reason = task.reason;
  if (task.message !== undefined) view.message = task.message;
  return view;
}

export function workerView(worker: Worker): WorkerView {
  const view: WorkerView = {
    id: worker.id,
    name: worker.name,
    kind: worker.kind,
    state: worker.draining || worker.leaving ? "draining" : worker.held > 0 ? "busy" : "idle",
    services: [...worker.services],
    capacity: worker.capacity,
    held: worker.held,
    tasks: [...worker.attempts.keys()],
    done: worker.done,
    failed: worker.failed,
    lastSeen: worker.lastSeen,
    heartbeat: worker.heartbeat,
  };
  if (worker.quarantinedUntil !== undefined) view.quarantinedUntil = worker.quarantinedUntil;
  if (worker.retiring) view.retiring = true;
  if (worker.leaving) view.leaving = true;
  return view;
}

/** §Admin INSPECT: the request and reply frames, cut once `INSPECT_BYTES` of frame content are shown. */
export function inspection(task: Task): TaskInspection {
  let budget = INSPECT_BYTES;
  let truncated = false;
  const views = (frames: readonly Uint8Array[]): FrameView[] => {
    const out: FrameView[] = [];
    for (const frame of frames) {
      if (budget <= 0 && frame.length > 0) {
        truncated = true;
        break;
      }
      if (frame.length > budget) truncated = true;
      out.push(frameView(frame, budget));
      budget -= Math.min(frame.length, budget);
    }
    return out;
  };
  const result: TaskInspection = { task: taskView(task), request: views(task.payload) };
  if (task.reply !== undefined) result.reply = views(task.reply);
  if (truncated) result.truncated = true;
  return result;
}
