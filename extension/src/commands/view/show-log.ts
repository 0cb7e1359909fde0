import type { Services } from "../services";

export function showLog(s: Services): void {
  s.log.show(true);
}
