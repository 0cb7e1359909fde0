/** The answers endpoint (protocol/spec.md §Legacy workers): a PULL socket, frames `task-id answer*`, no envelope. */
import { DEFAULT_BOUNDS, type MessageBounds } from "../protocol/limits";
import type { Frame, LegacyAnswer } from "../protocol/messages";
import { ProtocolError } from "./errors";
import { checkBounds, taskIdAt } from "./reader";

/** Broker side. An empty message has no task id frame: ZTB_ERR_EMPTY; one over `bounds` is ZTB_ERR_TOO_LARGE. */
export function decodeAnswer(frames: Frame[], bounds: MessageBounds = DEFAULT_BOUNDS): LegacyAnswer {
  checkBounds(frames, bounds, undefined);
  if (frames.length === 0) throw new ProtocolError("ZTB_ERR_EMPTY", "an answer with no task id frame");
  const task = taskIdAt(frames, 0, -1, false);
  return { type: "legacy-answer", task, payload: frames.slice(1) };
}

/** Peer side (what the prototype's worker sends on its PUSH socket). */
export function encodeAnswer(msg: LegacyAnswer): Frame[] {
  return [msg.task, ...msg.payload];
}
