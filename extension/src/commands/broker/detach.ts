import type { Services } from "../services";

export function detachBroker(s: Services): void {
  s.session.detach();
}
