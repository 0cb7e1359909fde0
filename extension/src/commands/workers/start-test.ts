import * as vscode from "vscode";
import { validateCount, validateDropRate } from "../../test-workers";
import type { Services } from "../services";

/** Start Test Workers…: asks count and drop rate (percent) unless given as arguments. Returns how many it started. */
export async function startTestWorkers(s: Services, countArg?: unknown, dropArg?: unknown): Promise<number> {
  const count =
    typeof countArg === "number"
      ? String(countArg)
      : await vscode.window.showInputBox({
          title: "Start Test Workers (1/2)",
          prompt: "How many echo workers?",
          value: "2",
          validateInput: validateCount,
        });
  if (count === undefined) return 0;
  const drop =
    typeof dropArg === "number"
      ? String(dropArg)
      : await vscode.window.showInputBox({
          title: "Start Test Workers (2/2)",
          prompt: "Percentage of tasks each worker drops without answering (shows timeouts and retries)",
          value: "0",
          validateInput: validateDropRate,
        });
  if (drop === undefined) return 0;
  if (validateCount(count) !== undefined || validateDropRate(drop) !== undefined) return 0;
  const n = Number(count.trim());
  s.testWorkers.start(n, Number(drop.trim().replace(/%$/, "")));
  return n;
}
