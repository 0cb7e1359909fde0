/**
 * Every `contextValue` a ztb tree item can carry — the ONE place they are defined. Menus in package.json match them
 * with `viewItem =~ /.../` regexes; test/extension/manifest.test.ts checks that every regex matches a value listed by
 * `allContextValues()`, so a renamed value cannot silently hide a menu.
 *
 * Scheme (as Container Tools does): `${state}Task`, `${state}TaskGroup`, `${state}${Kind}Worker`, plus a few fixed nodes.
 */
import { TASK_STATES, type TaskState, type WorkerView } from "../../../broker/src/protocol/messages";

const WORKER_STATES: readonly WorkerView["state"][] = ["idle", "busy", "draining"];
const WORKER_KINDS: readonly WorkerView["kind"][] = ["modern", "legacy"];

export const FIXED_CONTEXT_VALUES = {
  brokerState: "brokerState",
  brokerEndpoint: "brokerEndpoint",
  brokerCounter: "brokerCounter",
  brokerSetting: "brokerSetting",
  /** The broker's memory against --max-memory (and whether it sheds load). */
  brokerMemory: "brokerMemory",
  /** The broker's connections per endpoint. */
  brokerConnections: "brokerConnections",
  loadMoreTasks: "loadMoreTasks",
  message: "message",
} as const;

export function taskContextValue(state: TaskState): string {
  return `${state}Task`;
}

/** A Tasks view group: by state, so a menu can offer an action on one group (Delete All Failed). */
export function taskGroupContextValue(state: TaskState): string {
  return `${state}TaskGroup`;
}

export function workerContextValue(worker: Pick<WorkerView, "state" | "kind">): string {
  const kind = worker.kind === "modern" ? "Modern" : "Legacy";
  return `${worker.state}${kind}Worker`;
}

/** Every value the code can produce. */
export function allContextValues(): string[] {
  const values: string[] = Object.values(FIXED_CONTEXT_VALUES);
  for (const state of TASK_STATES) values.push(taskContextValue(state), taskGroupContextValue(state));
  for (const state of WORKER_STATES) for (const kind of WORKER_KINDS) values.push(workerContextValue({ state, kind }));
  return values;
}
