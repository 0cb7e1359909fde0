import * as vscode from "vscode";
import { formatTaskFilter, parseTaskFilter } from "../../model/task-filter";
import type { Services } from "../services";

/**
 * Filter Tasks…: `service:NAME worker:NAME state:STATE` and free text (model/task-filter.ts). With a string argument
 * (tests, keybindings) it applies that line without asking. Resolves with the filter now in force ("" = none).
 */
export async function filterTasks(s: Services, line?: unknown): Promise<string | undefined> {
  const current = s.tasks.filter;
  const value =
    typeof line === "string"
      ? line
      : await vscode.window.showInputBox({
          title: "Filter Tasks",
          prompt: "service:NAME worker:NAME state:queued|running|succeeded|failed|cancelled and words to find (empty: no filter)",
          value: current ? formatTaskFilter(current) : "",
          validateInput: (text) => {
            const parsed = parseTaskFilter(text);
            return parsed.ok ? undefined : parsed.message;
          },
        });
  if (value === undefined) return undefined;
  const parsed = parseTaskFilter(value);
  if (!parsed.ok) {
    void vscode.window.showErrorMessage(`ZeroMQ Broker: ${parsed.message}`);
    return undefined;
  }
  s.tasks.setFilter(parsed.filter);
  return parsed.filter ? formatTaskFilter(parsed.filter) : "";
}

export function clearTaskFilter(s: Services): void {
  s.tasks.setFilter(undefined);
}

/** Clear Finished Tasks: the view forgets the finished tasks it shows (the broker keeps them; Delete removes them). */
export function clearFinishedTasks(s: Services): void {
  s.session.clearFinished();
}
