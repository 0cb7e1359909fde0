import * as vscode from "vscode";
import { pickWorker } from "../pick";
import type { Services } from "../services";

export async function copyWorkerName(s: Services, arg?: unknown): Promise<string | undefined> {
  const worker = await pickWorker(s, arg, "copy");
  if (!worker) return undefined;
  await vscode.env.clipboard.writeText(worker.name);
  return worker.name;
}
