import * as vscode from "vscode";
import type { DeleteTarget } from "../../../../broker/src/protocol/messages";
import { adminAction, pickTask } from "../pick";
import type { Services } from "../services";

type FailedTarget = Extract<DeleteTarget, { state: "failed" }>;

/**
 * Delete Task (§Admin DELETE, ZTB/1.1): a finished task leaves the broker's history for good (and a durable broker's
 * journal).
 */
export async function deleteTask(s: Services, arg?: unknown): Promise<boolean> {
  const task = await pickTask(s, arg, ["succeeded", "failed", "cancelled"], "delete");
  if (!task) return false;
  const result = await adminAction(() => s.bridge.action({ kind: "delete", target: { task: task.id } }), `delete ${task.id}`);
  return result !== undefined;
}

/**
 * Delete All Failed Tasks… (§Admin DELETE `{"state": "failed"}`): on the Failed group, every failed task; with a
 * service name as argument, or picked in the palette, only that service's. It cannot be undone, so it asks first unless
 * `confirmed` is true (for callers that asked already). Resolves with the number the broker deleted.
 */
export async function deleteFailedTasks(s: Services, arg?: unknown, confirmed?: unknown): Promise<number | undefined> {
  const target: FailedTarget | undefined =
    typeof arg === "string" ? { state: "failed", service: arg } : isGroupNode(arg) ? { state: "failed" } : await pickTarget(s);
  if (!target) return undefined;
  if (confirmed !== true) {
    const which = target.service === undefined ? "every failed task" : `every failed task of service ${target.service}`;
    const journal = s.session.model.broker()?.durable === true ? " and its journal" : "";
    const choice = await vscode.window.showWarningMessage(
      `Delete ${which}? The broker forgets them for good (its history${journal}); Retry is no longer possible.`,
      { modal: true },
      "Delete",
    );
    if (choice !== "Delete") return undefined;
  }
  const result = await adminAction(() => s.bridge.action({ kind: "delete", target }), "delete the failed tasks");
  const deleted = result?.kind === "ack" && typeof result.body["deleted"] === "number" ? result.body["deleted"] : undefined;
  if (deleted !== undefined) {
    void vscode.window.setStatusBarMessage(`ZeroMQ Broker: deleted ${deleted} failed task${deleted === 1 ? "" : "s"}`, 5000);
  }
  return deleted;
}

function isGroupNode(arg: unknown): boolean {
  return typeof arg === "object" && arg !== null && (arg as Record<string, unknown>)["state"] === "failed";
}

/** From the palette: all services, or one of those the known failed tasks belong to. */
async function pickTarget(s: Services): Promise<FailedTarget | undefined> {
  const services = [...new Set(s.session.model.tasksIn("failed").map((t) => t.service))].sort();
  const all = { label: "All services", description: "every failed task", service: undefined };
  const picked = await vscode.window.showQuickPick([all, ...services.map((service) => ({ label: service, description: "its failed tasks", service }))], {
    placeHolder: "Delete the failed tasks of",
  });
  if (!picked) return undefined;
  return picked.service === undefined ? { state: "failed" } : { state: "failed", service: picked.service };
}
