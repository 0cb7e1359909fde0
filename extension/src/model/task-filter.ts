/**
 * The Tasks view's filter, typed as one line: `service:NAME worker:NAME state:STATE` plus free text, e.g.
 * `service:resize state:failed timeout`. Every part must match (free text: case-insensitive, anywhere in the task's
 * label, id, service, worker name, failure reason or message). Pure, unit-tested.
 */
import { TASK_STATES, type TaskState, type TaskView } from "../../../broker/src/protocol/messages";

export interface TaskFilter {
  service?: string;
  /** A worker's name or id. */
  worker?: string;
  state?: TaskState;
  /** Lower-cased words, each of which must appear. */
  words: string[];
}

export type ParsedFilter = { ok: true; filter: TaskFilter | undefined } | { ok: false; message: string };

const KEYS = ["service", "worker", "state"] as const;

/** `undefined` filter = the line was empty (no filter). */
export function parseTaskFilter(line: string): ParsedFilter {
  const filter: TaskFilter = { words: [] };
  for (const token of line.trim().split(/\s+/).filter((t) => t !== "")) {
    const match = /^([a-z]+):(.*)$/.exec(token);
    const key = KEYS.find((k) => k === match?.[1]);
    if (key === undefined || match?.[2] === undefined) {
      filter.words.push(token.toLowerCase());
      continue;
    }
    const value = match[2];
    if (value === "") return { ok: false, message: `${key}: needs a value, e.g. ${key}:${key === "state" ? "failed" : "NAME"}` };
    if (filter[key] !== undefined) return { ok: false, message: `${key}: given twice` };
    if (key === "state") {
      const state = TASK_STATES.find((s) => s === value);
      if (state === undefined) return { ok: false, message: `state:${value} is not a task state (${TASK_STATES.join(", ")})` };
      filter.state = state;
    } else filter[key] = value;
  }
  const empty = filter.words.length === 0 && KEYS.every((k) => filter[k] === undefined);
  return { ok: true, filter: empty ? undefined : filter };
}

/** The filter as it was typed (normalised), for the view's description. */
export function formatTaskFilter(filter: TaskFilter): string {
  return [...KEYS.flatMap((k) => (filter[k] === undefined ? [] : [`${k}:${filter[k]}`])), ...filter.words].join(" ");
}

export function taskMatches(task: TaskView, filter: TaskFilter, label: string, workerName: string | undefined): boolean {
  if (filter.state !== undefined && task.state !== filter.state) return false;
  if (filter.service !== undefined && task.service !== filter.service) return false;
  if (filter.worker !== undefined && filter.worker !== workerName && filter.worker !== task.worker) return false;
  if (filter.words.length === 0) return true;
  const haystack = [label, task.id, task.service, workerName ?? "", task.reason ?? "", task.message ?? ""].join("\n").toLowerCase();
  return filter.words.every((w) => haystack.includes(w));
}
