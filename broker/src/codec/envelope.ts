/**
 * Peer-side questions about messages that the codec answers so that nothing else reads frame positions
 * (protocol/spec.md §Envelopes, §Client protocol): what a possibly invalid message claims to be, whether a frame
 * would make a plain request look enveloped, whether a plain reply is the failure frame, and the one-hop routing path
 * the plain client uses to match replies.
 */
import type { Frame, RoutingPath } from "../protocol/messages";
import { EMPTY_FRAME, FAMILY, matchSignature } from "./octets";

/**
 * The command a message names in its command frame (`"" SIGNATURE COMMAND ...`), valid or not, as text; undefined when
 * it has no such frame. For reports about messages the decoder refused.
 */
export function claimedCommand(frames: readonly Frame[]): string | undefined {
  const command = frames[2];
  if (frames[0]?.length !== 0 || command === undefined) return undefined;
  let text = "";
  for (const octet of command) text += String.fromCharCode(octet);
  return text;
}

/** `ZTBC` and two digits: the broker reads a plain request starting with it as enveloped, of some version. */
export function isClientSignature(frame: Frame): boolean {
  return matchSignature(frame, FAMILY.client) !== "none";
}

/** A plain reply's payload that means failure: exactly one empty frame (§Plain mode). */
export function isPlainFailure(payload: readonly Frame[]): boolean {
  return payload.length === 1 && payload[0]?.length === 0;
}

/** A routing path of one hop before the delimiter, as an intermediate proxy would add it. */
export function oneHopPath(hop: Frame): RoutingPath {
  return [hop, EMPTY_FRAME];
}

/** The hop of a one-hop routing path; undefined for any other path. */
export function onlyHop(path: RoutingPath): Frame | undefined {
  return path.length === 2 ? path[0] : undefined;
}
