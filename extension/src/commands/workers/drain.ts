import { adminAction, pickWorker } from "../pick";
import type { Services } from "../services";

/** Drain Worker (§Admin DRAIN): the worker keeps its tasks but gets no new ones. */
export async function drainWorker(s: Services, arg?: unknown): Promise<boolean> {
  const worker = await pickWorker(s, arg, "drain", ["idle", "busy"]);
  if (!worker) return false;
  const done = await adminAction(() => s.bridge.action({ kind: "drain", worker: worker.id, drain: true }), `drain ${worker.name}`);
  return done !== undefined;
}
