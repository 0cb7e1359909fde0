import * as vscode from "vscode";
import type { Services } from "../services";

/**
 * Detach from Broker: the extension's test workers go too. They were started against this broker and would keep
 * taking its tasks, out of sight of the extension that started them.
 */
export async function detachBroker(s: Services): Promise<void> {
  if (s.session.owned) return;
  const workers = s.testWorkers.count;
  await s.testWorkers.stop();
  s.session.detach();
  if (workers > 0) {
    void vscode.window.setStatusBarMessage(`ZeroMQ Broker: detached; stopped ${workers} test worker${workers === 1 ? "" : "s"}`, 5000);
  }
}
