import { formatRequestBlock } from "../../requests/request-file";
import { fromFrameView } from "../../model/frame-view";
import { adminAction, pickTask } from "../pick";
import type { Services } from "../services";

/** Show Request (§Admin INSPECT): the task's request as a `.ztb` block, so it can be edited and sent again. */
export async function showRequest(s: Services, arg?: unknown): Promise<string | undefined> {
  const task = await pickTask(s, arg, ["queued", "running", "succeeded", "failed", "cancelled"], "show");
  if (!task) return undefined;
  const result = await adminAction(() => s.bridge.action({ kind: "inspect", task: task.id }), `inspect ${task.id}`);
  if (result?.kind !== "inspect") return undefined;
  const t = result.inspection.task;
  let text = formatRequestBlock(`task ${t.id}`, { service: t.service }, result.inspection.request.map(fromFrameView));
  if (result.inspection.truncated) text = `# frames truncated by the broker at 64 KiB\n${text}`;
  const uri = s.documents.create(`request-${t.id}.ztb`, text);
  await s.documents.show(uri);
  return uri.toString();
}
