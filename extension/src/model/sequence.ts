/**
 * Event ordering of the admin subscription (ztb-brief §Admin: "seq +1 per EVENT; a monitor that sees a gap
 * re-snapshots"). A SNAPSHOT's `seq` is taken to be the seq of the last EVENT whose changes it already contains, so the
 * next EVENT to apply is `seq + 1`; events at or below it are already in the snapshot (stale).
 */
export type EventOrder = "next" | "stale" | "gap";

export function classifyEvent(lastSeq: number, eventSeq: number): EventOrder {
  if (eventSeq === lastSeq + 1) return "next";
  if (eventSeq <= lastSeq) return "stale";
  return "gap";
}
