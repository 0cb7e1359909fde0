import * as vscode from "vscode";
import { connectEndpointProblem } from "../../model/endpoint";
import { readSettings } from "../../settings";
import type { Services } from "../services";

/** Attach to Running Broker…: asks for the admin endpoint (or takes it as the argument). */
export async function attachBroker(s: Services, endpoint?: unknown): Promise<boolean> {
  const admin =
    typeof endpoint === "string"
      ? endpoint
      : await vscode.window.showInputBox({
          title: "Attach to Running Broker",
          prompt: "The broker's admin endpoint (ztb broker --admin)",
          value: readSettings().admin,
          validateInput: connectEndpointProblem,
        });
  if (admin === undefined) return false;
  const problem = connectEndpointProblem(admin);
  if (problem !== undefined) {
    void vscode.window.showErrorMessage(`ZeroMQ Broker: cannot attach: ${problem}`);
    return false;
  }
  try {
    await s.session.attach(admin.trim());
    return true;
  } catch (error) {
    const message = `ZeroMQ Broker: ${error instanceof Error ? error.message : String(error)}`;
    // Settings that cannot work or an unreadable certificate end the attempt; anything else keeps the monitor trying.
    if (s.session.hasBroker) void vscode.window.showWarningMessage(`${message}; still trying in the background.`);
    else void vscode.window.showErrorMessage(message);
    return false;
  }
}
