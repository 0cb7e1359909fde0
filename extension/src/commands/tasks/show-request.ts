import * as vscode from "vscode";
import { formatRequestBlock } from "../../requests/request-file";
import { fromFrameView } from "../../model/frame-view";
import { adminAction, pickTask } from "../pick";
import type { Services } from "../services";

/**
 * Show Request (§Admin INSPECT): the task's request as a `.ztb` block in an untitled document, so it can be edited and
 * sent again (its CodeLens and Send Request work as in any request file). Showing the same task again brings back
 * that document, edits included.
 */
export async function showRequest(s: Services, arg?: unknown): Promise<string | undefined> {
  const task = await pickTask(s, arg, ["queued", "running", "succeeded", "failed", "cancelled"], "show");
  if (!task) return undefined;
  const result = await adminAction(() => s.bridge.action({ kind: "inspect", task: task.id }), `inspect ${task.id}`);
  if (result?.kind !== "inspect") return undefined;
  const t = result.inspection.task;
  let text = formatRequestBlock(`task ${t.id}`, { service: t.service }, result.inspection.request.map(fromFrameView));
  if (result.inspection.truncated) text = `# frames truncated by the broker at 64 KiB\n${text}`;
  const uri = vscode.Uri.from({ scheme: "untitled", path: `request-${t.id.replace(/[^\w.-]+/g, "-")}.ztb` });
  const alreadyOpen = vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString());
  const document = await vscode.workspace.openTextDocument(uri);
  if (!alreadyOpen) {
    const edit = new vscode.WorkspaceEdit();
    edit.insert(uri, new vscode.Position(0, 0), text);
    await vscode.workspace.applyEdit(edit);
  }
  if (document.languageId !== "ztb-request") await vscode.languages.setTextDocumentLanguage(document, "ztb-request");
  await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: false });
  return uri.toString();
}
