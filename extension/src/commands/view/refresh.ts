import type { Services } from "../services";

/** Refresh: a new snapshot and an immediate re-render (no debounce). */
export function refresh(s: Services): void {
  s.refresh.request({ kind: "manual" });
}
