import * as vscode from "vscode";
import { pickTask } from "../pick";
import type { Services } from "../services";

export async function copyTaskId(s: Services, arg?: unknown): Promise<string | undefined> {
  const task = await pickTask(s, arg, ["queued", "running", "succeeded", "failed", "cancelled"], "copy");
  if (!task) return undefined;
  await vscode.env.clipboard.writeText(task.id);
  return task.id;
}
