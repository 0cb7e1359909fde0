import * as vscode from "vscode";
import { adminAction, pickTask } from "../pick";
import type { Services } from "../services";

/** Retry Task (§Admin RETRY): a NEW task with the same payload; its result is kept for Show Reply, not sent to a client. */
export async function retryTask(s: Services, arg?: unknown): Promise<string | undefined> {
  const task = await pickTask(s, arg, ["failed", "cancelled"], "retry");
  if (!task) return undefined;
  const result = await adminAction(() => s.bridge.action({ kind: "retry", task: task.id }), `retry ${task.id}`);
  const newId = result?.kind === "ack" && typeof result.body["task"] === "string" ? result.body["task"] : undefined;
  if (newId) void vscode.window.setStatusBarMessage(`ZeroMQ Broker: ${task.id} retried as ${newId}`, 5000);
  return newId;
}
