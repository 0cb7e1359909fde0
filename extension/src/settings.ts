/** The extension's settings (package.json `contributes.configuration`, section `ztb`). */
import * as os from "node:os";
import * as vscode from "vscode";
import { resolveSettingPath, type CurveSettings } from "./broker/curve";
import type { BrokerSettings } from "./broker/launch";

export interface Settings extends BrokerSettings {
  ztbPath: string;
  historySize: number;
  /** `ztb.requestDeadline` in ms (REQUEST `deadline` of requests sent from the editor); undefined = none. */
  requestDeadline: number | undefined;
  /** `ztb.curve.*`, paths resolved (broker/curve.ts). */
  curve: CurveSettings;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration("ztb");
  const history = c.get<number>("historySize", 1000);
  const where = { home: os.homedir(), workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath };
  const curvePath = (name: keyof CurveSettings): string => resolveSettingPath(c.get<string>(`curve.${name}`, ""), where);
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
    requestDeadline: deadlineMs(c.get<number>("requestDeadline", 30)),
    dataDirectory: resolveSettingPath(c.get<string>("broker.dataDirectory", ""), where),
    ztbPath: c.get<string>("ztbPath", ""),
    curve: {
      serverKey: curvePath("serverKey"),
      extensionCertificate: curvePath("extensionCertificate"),
      brokerCertificate: curvePath("brokerCertificate"),
      clientKeys: curvePath("clientKeys"),
      workerKeys: curvePath("workerKeys"),
      adminKeys: curvePath("adminKeys"),
    },
  };
}

/** Seconds from the settings as the REQUEST `deadline` in ms; 0 (or nonsense) = none. */
export function deadlineMs(seconds: number): number | undefined {
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(1, Math.round(seconds * 1000)) : undefined;
}
