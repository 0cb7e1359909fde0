import type { Services } from "../services";
import { startBroker } from "./start";

export async function restartBroker(s: Services): Promise<boolean> {
  await s.session.stop();
  return startBroker(s);
}
