import { adminAction, pickTask } from "../pick";
import type { Services } from "../services";

/** Cancel Task (§Admin CANCEL): the client gets failed/cancelled; a running task's worker gets CANCEL. */
export async function cancelTask(s: Services, arg?: unknown): Promise<boolean> {
  const task = await pickTask(s, arg, ["queued", "running"], "cancel");
  if (!task) return false;
  return (await adminAction(() => s.bridge.action({ kind: "cancel", task: task.id }), `cancel ${task.id}`)) !== undefined;
}
