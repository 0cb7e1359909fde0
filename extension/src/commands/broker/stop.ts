import type { Services } from "../services";

/** Stop Broker: test workers go too (they would only reconnect forever). */
export async function stopBroker(s: Services): Promise<void> {
  await s.testWorkers.stop();
  await s.session.stop();
}
