import * as vscode from "vscode";
import { TEST_WORKER_POISON } from "../../broker/launch";
import { formatRequestBlock } from "../../requests/request-file";
import type { Services } from "../services";

export const WALKTHROUGH_ID = "ztb.ztb#gettingStarted";

/** Get Started: the walkthrough (package.json contributes.walkthroughs). */
export async function openWalkthrough(): Promise<void> {
  await vscode.commands.executeCommand("workbench.action.openWalkthrough", WALKTHROUGH_ID, false);
}

/**
 * Open Sample Request File: an untitled `.ztb` with a variable, a request that succeeds and one the test workers
 * never answer (TEST_WORKER_POISON), so the walkthrough has a failure to look at and retry.
 */
export async function openSampleRequest(_s: Services): Promise<string> {
  const text = [
    "# A ZeroMQ request file: blocks start with ###, one frame per line, options before the frames.",
    "# Send a block with the CodeLens above it or Ctrl+Alt+R; Ctrl+Alt+L sends the last request again.",
    "@greeting = hello",
    "",
    formatRequestBlock("Say hello", { service: "default" }, []).trimEnd(),
    "{{greeting}}",
    "world",
    "",
    "### A request that fails: test workers never answer \"poison\", so both attempts time out",
    "@service default",
    "@attempts 2",
    "@timeout 0.5",
    TEST_WORKER_POISON,
    "",
  ].join("\n");
  const document = await vscode.workspace.openTextDocument({ language: "ztb-request", content: text });
  await vscode.window.showTextDocument(document, { preview: false });
  return document.uri.toString();
}
