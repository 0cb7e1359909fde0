import * as vscode from "vscode";
import { adminAction, pickTask, selectedTasks } from "../pick";
import type { Services } from "../services";

/**
 * Retry Task (§Admin RETRY): a NEW task with the same payload; its result is kept for Show Reply, not sent to a client.
 * On several selected failed or cancelled rows it retries each. Resolves with the new task id (the first, for many).
 */
export async function retryTask(s: Services, arg?: unknown, selection?: unknown): Promise<string | undefined> {
  const many = selectedTasks(selection, ["failed", "cancelled"]);
  if (many.length > 1) {
    const ids = await Promise.all(many.map((id) => retryOne(s, id)));
    const retried = ids.filter((id) => id !== undefined);
    void vscode.window.setStatusBarMessage(`ZeroMQ Broker: retried ${retried.length} of ${many.length} tasks`, 5000);
    return retried[0];
  }
  const task = await pickTask(s, arg, ["failed", "cancelled"], "retry");
  if (!task) return undefined;
  const newId = await retryOne(s, task.id);
  if (newId) void vscode.window.setStatusBarMessage(`ZeroMQ Broker: ${task.id} retried as ${newId}`, 5000);
  return newId;
}

async function retryOne(s: Services, id: string): Promise<string | undefined> {
  const result = await adminAction(() => s.bridge.action({ kind: "retry", task: id }), `retry ${id}`);
  const newId = result?.kind === "ack" && typeof result.body["task"] === "string" ? result.body["task"] : undefined;
  // The new task does the same work: it keeps the name a person knows the old one by.
  const title = s.session.model.titleOf(id);
  if (newId && title !== undefined) s.session.model.setTitle(newId, title);
  return newId;
}
