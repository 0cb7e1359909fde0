import { TASK_STATES, type TaskState } from "../../../../broker/src/protocol/messages";
import type { Services } from "../services";

export async function loadMoreTasks(s: Services, state?: unknown): Promise<void> {
  const known = TASK_STATES.find((st: TaskState) => st === state);
  if (known) await s.tasks.loadMore(known);
}
