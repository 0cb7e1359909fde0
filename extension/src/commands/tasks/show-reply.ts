import { formatInspection } from "../../requests/reply-document";
import { adminAction, pickTask } from "../pick";
import type { Services } from "../services";

/** Show Reply (§Admin INSPECT): outcome, failure reason and the reply frames the broker kept. */
export async function showReply(s: Services, arg?: unknown): Promise<string | undefined> {
  const task = await pickTask(s, arg, ["succeeded", "failed", "cancelled"], "show the reply of");
  if (!task) return undefined;
  const result = await adminAction(() => s.bridge.action({ kind: "inspect", task: task.id }), `inspect ${task.id}`);
  if (result?.kind !== "inspect") return undefined;
  const uri = s.documents.create(`reply-${task.id}.txt`, formatInspection(result.inspection, (id) => s.session.model.workerName(id)));
  await s.documents.show(uri);
  return uri.toString();
}
