/** The extension's settings (package.json `contributes.configuration`, section `ztb`). */
import * as vscode from "vscode";
import type { BrokerSettings } from "./broker/launch";

export interface Settings extends BrokerSettings {
  ztbPath: string;
  historySize: number;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration("ztb");
  const history = c.get<number>("historySize", 1000);
  return {
    clients: c.get<string>("endpoints.clients", "tcp://127.0.0.1:4161"),
    workers: c.get<string>("endpoints.workers", "tcp://127.0.0.1:4162"),
    answers: c.get<string>("endpoints.answers", "tcp://127.0.0.1:4163"),
    admin: c.get<string>("endpoints.admin", "tcp://127.0.0.1:4164"),
    tries: c.get<number>("tries", 3),
    timeout: c.get<number>("timeout", 2),
    heartbeat: c.get<number>("heartbeat", 1000),
    history,
    historySize: history,
    ztbPath: c.get<string>("ztbPath", ""),
  };
}
