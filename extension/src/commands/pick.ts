/**
 * Tree commands get a TreeNode; from the palette they get nothing and fall back to a quick pick; tests and other
 * extensions may pass the task id or worker id as a string.
 */
import * as vscode from "vscode";
import type { TaskState, TaskView, WorkerView } from "../../../broker/src/protocol/messages";
import type { Services } from "./services";

function idFrom(arg: unknown, key: "taskId" | "workerId"): string | undefined {
  if (typeof arg === "string") return arg;
  if (typeof arg === "object" && arg !== null && key in arg) {
    const value = (arg as Record<string, unknown>)[key];
    if (typeof value === "string") return value;
  }
  return undefined;
}

export async function pickTask(s: Services, arg: unknown, states: readonly TaskState[], verb: string): Promise<TaskView | undefined> {
  const id = idFrom(arg, "taskId");
  if (id !== undefined) return s.session.model.task(id) ?? ({ id } as TaskView);
  const candidates = s.session.model.tasks().filter((t) => states.includes(t.state));
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`ZeroMQ Broker: no ${states.join(" or ")} task to ${verb}.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((t) => ({ label: t.id, description: `${t.state} · ${t.service}`, detail: t.reason, task: t })),
    { placeHolder: `Task to ${verb}` },
  );
  return picked?.task;
}

/** `states`: the worker states the command applies to (the quick pick offers only those). */
export async function pickWorker(
  s: Services,
  arg: unknown,
  verb: string,
  states: readonly WorkerView["state"][] = ["idle", "busy", "draining"],
): Promise<WorkerView | undefined> {
  const id = idFrom(arg, "workerId");
  if (id !== undefined) {
    return s.session.model.worker(id) ?? s.session.model.workers().find((w) => w.name === id);
  }
  const workers = s.session.model.workers().filter((w) => states.includes(w.state));
  if (workers.length === 0) {
    void vscode.window.showInformationMessage(`ZeroMQ Broker: no ${states.join(" or ")} worker to ${verb}.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    workers.map((w) => ({ label: w.name, description: `${w.kind} · ${w.state} · ${w.held}/${w.capacity}`, worker: w })),
    { placeHolder: `Worker to ${verb}` },
  );
  return picked?.worker;
}

/** Runs an admin action, showing its error (unknown-task, bad-state, …) instead of throwing. */
export async function adminAction<T>(run: () => Promise<T>, what: string): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    void vscode.window.showErrorMessage(`ZeroMQ Broker: could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/**
 * The task ids of a tree multi-selection (VS Code passes the selected nodes as the second argument when
 * `canSelectMany` is on), keeping only rows in `states`; task ids as strings are accepted too (tests, other extensions).
 */
export function selectedTasks(selection: unknown, states: readonly TaskState[]): string[] {
  if (!Array.isArray(selection)) return [];
  const ids: string[] = [];
  for (const item of selection as unknown[]) {
    if (typeof item === "string") ids.push(item);
    else if (typeof item === "object" && item !== null) {
      const r = item as Record<string, unknown>;
      if (typeof r["taskId"] === "string" && (r["state"] === undefined || states.some((st) => st === r["state"]))) ids.push(r["taskId"]);
    }
  }
  return ids;
}
