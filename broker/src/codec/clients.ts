/**
 * The clients endpoint (protocol/spec.md §Clients): plain requests and replies of the prototype, enveloped
 * REQUEST / CANCEL / REPLY. Frames start after the ROUTER's routing id, i.e. with the routing path.
 */
import { DEFAULT_BOUNDS, type MessageBounds } from "../protocol/limits";
import type { ClientMessage, ClientReply, Frame } from "../protocol/messages";
import { COMMAND_FRAME, EMPTY_FRAME, PEER_GONE_FRAME, SIGNATURE_FRAME, commandTable, findCommand, isPeerGone, isPeerHello } from "./octets";
import {
  MAX_JSON_TO_BROKER,
  afterDelimiter,
  checkBounds,
  delimiterIndex,
  isSignature,
  routingPath,
  jsonAt,
  jsonFrame,
  malformed,
  need,
  noMore,
} from "./reader";
import { validators } from "./schemas";
import { unreachable } from "./unreachable";

const TO_BROKER = commandTable(["REQUEST", "CANCEL"]);
const FROM_BROKER = commandTable(["REPLY"]);
const SIG = SIGNATURE_FRAME.client;

/**
 * Broker side. A first payload frame that is not `ZTBC<digits>` makes a plain (prototype) request. A message over
 * `bounds` is ZTB_ERR_TOO_LARGE (§Limits).
 */
export function decodeClient(frames: Frame[], bounds: MessageBounds = DEFAULT_BOUNDS): ClientMessage {
  if (isPeerGone(frames)) return { type: "peer-gone" };
  if (isPeerHello(frames)) return { type: "peer-hello" };
  checkBounds(frames, bounds, "client");
  const d = delimiterIndex(frames);
  if (!isSignature(afterDelimiter(frames, d), "client", frames, d)) {
    return { type: "plain-request", path: routingPath(frames, d), payload: frames.slice(d + 1) };
  }
  const c = d + 2;
  const command = findCommand(TO_BROKER, need(frames, c, "command", d, true));
  switch (command) {
    case "REQUEST": {
      const options = jsonAt(frames, c + 1, validators.requestOptions, "REQUEST options", d, MAX_JSON_TO_BROKER);
      return { type: "request", path: routingPath(frames, d), options, payload: frames.slice(c + 2) };
    }
    case "CANCEL": {
      need(frames, c + 1, "CANCEL detail", d, true);
      noMore(frames, c + 2, "CANCEL detail", d, true);
      const { id } = jsonAt(frames, c + 1, validators.clientCancel, "CANCEL detail", d, MAX_JSON_TO_BROKER);
      return { type: "cancel", path: routingPath(frames, d), id };
    }
    default:
      throw malformed("ZTB_ERR_UNKNOWN_COMMAND", "not a client command", frames, d, true);
  }
}

/** Broker side. */
export function encodeClientReply(msg: ClientReply): Frame[] {
  switch (msg.type) {
    case "plain-reply":
      return [...msg.path, ...msg.payload];
    case "reply":
      return [...msg.path, SIG, COMMAND_FRAME.REPLY, jsonFrame(msg.detail), ...msg.payload];
    default:
      return unreachable(msg);
  }
}

/** Peer side (client libraries, tests). */
export function encodeClient(msg: ClientMessage): Frame[] {
  switch (msg.type) {
    case "plain-request":
      return [...msg.path, ...msg.payload];
    case "request":
      return [...msg.path, SIG, COMMAND_FRAME.REQUEST, jsonFrame(msg.options), ...msg.payload];
    case "cancel":
      return [...msg.path, SIG, COMMAND_FRAME.CANCEL, jsonFrame({ id: msg.id })];
    case "peer-gone":
      return [PEER_GONE_FRAME];
    case "peer-hello":
      return [EMPTY_FRAME];
    default:
      return unreachable(msg);
  }
}

/**
 * Peer side. A reply whose first frame is the client signature is enveloped; a plain client should not call this
 * for a worker answer that happens to start with `ZTBC01` (it knows it sent a plain request).
 */
export function decodeClientReply(frames: Frame[]): ClientReply {
  const d = delimiterIndex(frames);
  if (!isSignature(afterDelimiter(frames, d), "client", frames, d)) {
    return { type: "plain-reply", path: frames.slice(0, d + 1), payload: frames.slice(d + 1) };
  }
  const c = d + 2;
  const command = findCommand(FROM_BROKER, need(frames, c, "command", d, true));
  if (command !== "REPLY") throw malformed("ZTB_ERR_UNKNOWN_COMMAND", "not a broker-to-client command", frames, d, true);
  const detail = jsonAt(frames, c + 1, validators.replyDetail, "REPLY detail", d, undefined);
  return { type: "reply", path: frames.slice(0, d + 1), detail, payload: frames.slice(c + 2) };
}
