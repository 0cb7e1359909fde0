import { adminAction, pickWorker } from "../pick";
import type { Services } from "../services";

/** Resume Worker (§Admin DRAIN with `drain: false`): a drained worker gets new tasks again. */
export async function resumeWorker(s: Services, arg?: unknown): Promise<boolean> {
  const worker = await pickWorker(s, arg, "resume", ["draining"]);
  if (!worker) return false;
  const done = await adminAction(() => s.bridge.action({ kind: "drain", worker: worker.id, drain: false }), `resume ${worker.name}`);
  return done !== undefined;
}
