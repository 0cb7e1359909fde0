import * as vscode from "vscode";
import type { Services } from "../services";

/** Start Broker: resolves when the broker answered its first snapshot (false when it failed; the error is shown). */
export async function startBroker(s: Services): Promise<boolean> {
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: "Starting the ZeroMQ broker" },
      () => s.session.start(),
    );
    return true;
  } catch (error) {
    // A broker that died already showed its own notification with the log line.
    if (s.session.state !== "error") {
      void vscode.window.showErrorMessage(`ZeroMQ Broker: ${error instanceof Error ? error.message : String(error)}`);
    }
    return false;
  }
}
