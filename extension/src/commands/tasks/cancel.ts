import { adminAction, pickTask, selectedTasks } from "../pick";
import type { Services } from "../services";

/**
 * Cancel Task (§Admin CANCEL): the client gets failed/cancelled; a running task's worker gets CANCEL. On several
 * selected rows (the Tasks view allows multi-select) it cancels each; resolves true when every one was cancelled.
 */
export async function cancelTask(s: Services, arg?: unknown, selection?: unknown): Promise<boolean> {
  const many = selectedTasks(selection, ["queued", "running"]);
  if (many.length > 1) {
    const results = await Promise.all(many.map((id) => adminAction(() => s.bridge.action({ kind: "cancel", task: id }), `cancel ${id}`)));
    return results.every((r) => r !== undefined);
  }
  const task = await pickTask(s, arg, ["queued", "running"], "cancel");
  if (!task) return false;
  return (await adminAction(() => s.bridge.action({ kind: "cancel", task: task.id }), `cancel ${task.id}`)) !== undefined;
}
