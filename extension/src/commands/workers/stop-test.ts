import type { Services } from "../services";

export async function stopTestWorkers(s: Services): Promise<void> {
  await s.testWorkers.stop();
}
