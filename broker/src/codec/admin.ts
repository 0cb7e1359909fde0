/**
 * The admin endpoint (protocol/spec.md §Admin): monitors send `path ZTBA01 COMMAND json`, the broker answers
 * `path ZTBA01 COMMAND json`. Every admin message carries exactly one JSON frame ({} at least).
 */
import { DEFAULT_BOUNDS, type MessageBounds } from "../protocol/limits";
import type { AdminReply, AdminRequest, Frame } from "../protocol/messages";
import { COMMAND_FRAME, PEER_GONE_FRAME, SIGNATURE_FRAME, commandTable, findCommand, isPeerGone } from "./octets";
import { MAX_JSON_TO_BROKER, checkBounds, delimiterIndex, isSignature, jsonAt, jsonFrame, malformed, need, noMore } from "./reader";
import { validators } from "./schemas";
import { unreachable } from "./unreachable";

const TO_BROKER = commandTable(["SNAPSHOT", "SUBSCRIBE", "INSPECT", "CANCEL", "RETRY", "DRAIN", "DELETE"]);
const FROM_BROKER = commandTable(["SNAPSHOT", "ACK", "ERROR", "TASK", "EVENT"]);
const SIG = SIGNATURE_FRAME.admin;

/** Checks `path ZTBA01 COMMAND json` and returns the index of the command frame. */
function envelope(frames: Frame[], d: number): number {
  const first = need(frames, d + 1, "admin signature", d, false);
  if (!isSignature(first, "admin", frames, d)) throw malformed("ZTB_ERR_SIGNATURE", "not the admin signature", frames, d, false);
  return d + 2;
}

/** Broker side. A message over `bounds` is ZTB_ERR_TOO_LARGE (§Limits). */
export function decodeAdmin(frames: Frame[], bounds: MessageBounds = DEFAULT_BOUNDS): AdminRequest {
  if (isPeerGone(frames)) return { type: "peer-gone" };
  checkBounds(frames, bounds, "admin");
  const d = delimiterIndex(frames);
  const c = envelope(frames, d);
  const command = findCommand(TO_BROKER, need(frames, c, "command", d, true));
  if (command === undefined) throw malformed("ZTB_ERR_UNKNOWN_COMMAND", "not an admin request", frames, d, true);
  need(frames, c + 1, `${command} query`, d, true);
  noMore(frames, c + 2, `${command} query`, d, true);
  const path = frames.slice(0, d + 1);
  const j = c + 1;
  const limit = MAX_JSON_TO_BROKER;
  switch (command) {
    case "SNAPSHOT":
      return { type: "snapshot", path, query: jsonAt(frames, j, validators.snapshotQuery, "SNAPSHOT query", d, limit) };
    case "SUBSCRIBE": {
      const { lease } = jsonAt(frames, j, validators.subscribe, "SUBSCRIBE query", d, limit);
      return lease === undefined ? { type: "subscribe", path } : { type: "subscribe", path, lease };
    }
    case "INSPECT":
      return { type: "inspect", path, task: jsonAt(frames, j, validators.inspectQuery, "INSPECT query", d, limit).task };
    case "CANCEL":
      return { type: "cancel", path, task: jsonAt(frames, j, validators.taskAction, "CANCEL query", d, limit).task };
    case "RETRY":
      return { type: "retry", path, task: jsonAt(frames, j, validators.taskAction, "RETRY query", d, limit).task };
    case "DRAIN": {
      const { worker, drain, retire } = jsonAt(frames, j, validators.drain, "DRAIN query", d, limit);
      const msg: Extract<AdminRequest, { type: "drain" }> = { type: "drain", path, worker };
      if (drain !== undefined) msg.drain = drain;
      if (retire === true) msg.retire = retire;
      return msg;
    }
    case "DELETE":
      return { type: "delete", path, target: jsonAt(frames, j, validators.deleteQuery, "DELETE query", d, limit) };
    default:
      return unreachable(command);
  }
}

/** Broker side. */
export function encodeAdminReply(msg: AdminReply): Frame[] {
  switch (msg.type) {
    case "snapshot":
      return [...msg.path, SIG, COMMAND_FRAME.SNAPSHOT, jsonFrame(msg.snapshot)];
    case "ack":
      return [...msg.path, SIG, COMMAND_FRAME.ACK, jsonFrame(msg.body)];
    case "error":
      return [...msg.path, SIG, COMMAND_FRAME.ERROR, jsonFrame({ code: msg.code, message: msg.message })];
    case "task":
      return [...msg.path, SIG, COMMAND_FRAME.TASK, jsonFrame(msg.inspection)];
    case "event":
      return [...msg.path, SIG, COMMAND_FRAME.EVENT, jsonFrame(msg.event)];
    default:
      return unreachable(msg);
  }
}

/** Peer side (monitors such as the VS Code extension, tests). */
export function encodeAdmin(msg: AdminRequest): Frame[] {
  switch (msg.type) {
    case "snapshot":
      return [...msg.path, SIG, COMMAND_FRAME.SNAPSHOT, jsonFrame(msg.query)];
    case "subscribe":
      return [...msg.path, SIG, COMMAND_FRAME.SUBSCRIBE, jsonFrame(msg.lease === undefined ? {} : { lease: msg.lease })];
    case "inspect":
      return [...msg.path, SIG, COMMAND_FRAME.INSPECT, jsonFrame({ task: msg.task })];
    case "cancel":
      return [...msg.path, SIG, COMMAND_FRAME.CANCEL, jsonFrame({ task: msg.task })];
    case "retry":
      return [...msg.path, SIG, COMMAND_FRAME.RETRY, jsonFrame({ task: msg.task })];
    case "drain":
      return [
        ...msg.path,
        SIG,
        COMMAND_FRAME.DRAIN,
        jsonFrame({ worker: msg.worker, drain: msg.drain, retire: msg.retire }),
      ];
    case "delete":
      return [...msg.path, SIG, COMMAND_FRAME.DELETE, jsonFrame(msg.target)];
    case "peer-gone":
      return [PEER_GONE_FRAME];
    default:
      return unreachable(msg);
  }
}

/** Peer side. */
export function decodeAdminReply(frames: Frame[]): AdminReply {
  const d = delimiterIndex(frames);
  const c = envelope(frames, d);
  const command = findCommand(FROM_BROKER, need(frames, c, "command", d, true));
  if (command === undefined) throw malformed("ZTB_ERR_UNKNOWN_COMMAND", "not an admin reply", frames, d, true);
  need(frames, c + 1, `${command} body`, d, true);
  noMore(frames, c + 2, `${command} body`, d, true);
  const path = frames.slice(0, d + 1);
  const j = c + 1;
  switch (command) {
    case "SNAPSHOT":
      return { type: "snapshot", path, snapshot: jsonAt(frames, j, validators.snapshot, "SNAPSHOT", d, undefined) };
    case "ACK":
      return { type: "ack", path, body: jsonAt(frames, j, validators.ack, "ACK", d, undefined) };
    case "ERROR": {
      const { code, message } = jsonAt(frames, j, validators.error, "ERROR", d, undefined);
      return { type: "error", path, code, message };
    }
    case "TASK":
      return { type: "task", path, inspection: jsonAt(frames, j, validators.taskInspection, "TASK", d, undefined) };
    case "EVENT":
      return { type: "event", path, event: jsonAt(frames, j, validators.event, "EVENT", d, undefined) };
    default:
      return unreachable(command);
  }
}
