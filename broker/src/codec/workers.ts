/**
 * The workers endpoint (protocol/spec.md §Workers): modern DEALER workers (`"" ZTBW01 COMMAND ...`) and the
 * prototype's REQ workers (any single frame asks for a task; the task goes back as `path task-id payload*`).
 */
import { DEFAULT_BOUNDS, type MessageBounds } from "../protocol/limits";
import type { BrokerToWorker, DisconnectDetail, Frame, TaskHeader, WorkerMessage } from "../protocol/messages";
import {
  COMMAND_FRAME,
  EMPTY_FRAME,
  PEER_GONE_FRAME,
  SIGNATURE_FRAME,
  commandTable,
  digitsFrame,
  findCommand,
  isPeerGone,
} from "./octets";
import {
  MAX_JSON_TO_BROKER,
  afterDelimiter,
  checkBounds,
  delimiterIndex,
  isSignature,
  intervalAt,
  jsonAt,
  jsonFrame,
  malformed,
  need,
  noMore,
  routingPath,
  taskIdAt,
} from "./reader";
import { type Validator, validators } from "./schemas";
import { unreachable } from "./unreachable";

const TO_BROKER = commandTable(["READY", "RESULT", "FAIL", "HEARTBEAT", "DISCONNECT", "EXTEND"]);
const FROM_BROKER = commandTable(["TASK", "HEARTBEAT", "DISCONNECT", "CANCEL"]);
const SIG = SIGNATURE_FRAME.worker;
const LIMIT = MAX_JSON_TO_BROKER;
/** Modern messages are `"" ZTBW01 COMMAND args...`: the command is frame 2, its arguments start at 3. */
const ARG = 3;

/*
 * HEARTBEAT and DISCONNECT read the same in both directions, and FAIL, EXTEND and CANCEL share one shape
 * (`task-id json`), so each is decoded and encoded once. `limit` bounds JSON from peers (MAX_JSON_TO_BROKER) and is
 * undefined for what the broker sent.
 */

function heartbeatAt(frames: Frame[], d: number): { type: "heartbeat"; interval: number } {
  noMore(frames, ARG + 1, "heartbeat interval", d, true);
  return { type: "heartbeat", interval: intervalAt(frames, ARG, d) };
}

function disconnectAt(
  frames: Frame[],
  d: number,
  limit: number | undefined,
): { type: "disconnect"; detail?: DisconnectDetail } {
  noMore(frames, ARG + 1, "DISCONNECT detail", d, true);
  if (frames.length === ARG) return { type: "disconnect" };
  return { type: "disconnect", detail: jsonAt(frames, ARG, validators.disconnect, "DISCONNECT detail", d, limit) };
}

/** `task-id json`: exactly two argument frames. */
function taskAndDetailAt<T>(
  frames: Frame[],
  d: number,
  validate: Validator<T>,
  what: string,
  limit: number | undefined,
): [Frame, T] {
  need(frames, ARG + 1, what, d, true);
  noMore(frames, ARG + 2, what, d, true);
  const task = taskIdAt(frames, ARG, d, true);
  return [task, jsonAt(frames, ARG + 1, validate, what, d, limit)];
}

function heartbeatFrames(interval: number): Frame[] {
  return [EMPTY_FRAME, SIG, COMMAND_FRAME.HEARTBEAT, digitsFrame(interval)];
}

function disconnectFrames(detail: DisconnectDetail | undefined): Frame[] {
  const frames: Frame[] = [EMPTY_FRAME, SIG, COMMAND_FRAME.DISCONNECT];
  if (detail !== undefined) frames.push(jsonFrame(detail));
  return frames;
}

/**
 * Broker side. After the delimiter: two or more frames starting with `ZTBW01` are a modern message; exactly one
 * frame, whatever it holds, is a legacy request for work (the prototype sends "requesting task"); anything else
 * is malformed. Modern commands carry no routing path, so a modern message must start with the delimiter. A message
 * over `bounds` is ZTB_ERR_TOO_LARGE (§Limits), whatever it would have been.
 */
export function decodeWorker(frames: Frame[], bounds: MessageBounds = DEFAULT_BOUNDS): WorkerMessage {
  if (isPeerGone(frames)) return { type: "peer-gone" };
  checkBounds(frames, bounds, "worker");
  const d = delimiterIndex(frames);
  const first = afterDelimiter(frames, d);
  if (frames.length === d + 2) return { type: "legacy-ready", path: routingPath(frames, d), frame: first };
  if (!isSignature(first, "worker", frames, d)) throw malformed("ZTB_ERR_SIGNATURE", "not a worker signature", frames, d, false);
  if (d !== 0) throw malformed("ZTB_ERR_DELIMITER", "a modern worker's message must start with the delimiter", frames, d, true);
  const command = findCommand(TO_BROKER, need(frames, 2, "command", d, true));
  switch (command) {
    case "READY":
      noMore(frames, ARG + 1, "READY options", d, true);
      return { type: "ready", options: jsonAt(frames, ARG, validators.ready, "READY options", d, LIMIT) };
    case "RESULT":
      return { type: "result", task: taskIdAt(frames, ARG, d, true), payload: frames.slice(ARG + 1) };
    case "FAIL": {
      const [task, { message, retryable, returned }] = taskAndDetailAt(frames, d, validators.fail, "FAIL detail", LIMIT);
      return returned === true ? { type: "fail", task, message, retryable, returned } : { type: "fail", task, message, retryable };
    }
    case "HEARTBEAT":
      return heartbeatAt(frames, d);
    case "DISCONNECT":
      return disconnectAt(frames, d, LIMIT);
    case "EXTEND": {
      const [task, { timeout }] = taskAndDetailAt(frames, d, validators.extend, "EXTEND detail", LIMIT);
      return { type: "extend", task, timeout };
    }
    default:
      throw malformed("ZTB_ERR_UNKNOWN_COMMAND", "not a worker-to-broker command", frames, d, true);
  }
}

/** The members of a TASK header in the order the broker core writes them. */
const HEADER_KEYS = ["service", "attempt", "attempts", "timeout"] as const;
/** Distinct headers are few (services x attempt numbers x limits); the bound only guards against odd loads. */
const HEADER_CACHE_SIZE = 256;
const headerCache = new Map<string, Frame>();

/**
 * The TASK header frame, cached: JSON.stringify and UTF-8 encoding per dispatch showed in the broker's profile. Only a
 * header whose members are exactly HEADER_KEYS, in that order, is cached, because the frame must stay the JSON of the
 * object as given (vectors round-trip octet for octet). Cached frames are shared: never mutate them.
 */
function headerFrame(header: TaskHeader): Frame {
  let i = 0;
  for (const key in header) if (key !== HEADER_KEYS[i++]) return jsonFrame(header);
  if (i !== HEADER_KEYS.length) return jsonFrame(header);
  const key = `${header.attempt}|${header.attempts}|${header.timeout}|${header.service}`;
  let frame = headerCache.get(key);
  if (frame === undefined) {
    if (headerCache.size >= HEADER_CACHE_SIZE) headerCache.clear();
    frame = jsonFrame(header);
    headerCache.set(key, frame);
  }
  return frame;
}

/** Broker side. Modern messages go to a DEALER: the delimiter, then the signature. */
export function encodeToWorker(msg: BrokerToWorker): Frame[] {
  switch (msg.type) {
    case "task":
      return [EMPTY_FRAME, SIG, COMMAND_FRAME.TASK, msg.task, headerFrame(msg.header), ...msg.payload];
    case "heartbeat":
      return heartbeatFrames(msg.interval);
    case "disconnect":
      return disconnectFrames(msg.detail);
    case "cancel":
      return [EMPTY_FRAME, SIG, COMMAND_FRAME.CANCEL, msg.task, jsonFrame({ reason: msg.reason })];
    case "legacy-task":
      return [...msg.path, msg.task, ...msg.payload];
    default:
      return unreachable(msg);
  }
}

/** Peer side (worker libraries, tests). `peer-gone` encodes to what libzmq delivers, for simulations. */
export function encodeWorker(msg: WorkerMessage): Frame[] {
  switch (msg.type) {
    case "ready":
      return [EMPTY_FRAME, SIG, COMMAND_FRAME.READY, jsonFrame(msg.options)];
    case "result":
      return [EMPTY_FRAME, SIG, COMMAND_FRAME.RESULT, msg.task, ...msg.payload];
    case "fail": {
      const detail = msg.returned === true ? { message: msg.message, retryable: msg.retryable, returned: true } : { message: msg.message, retryable: msg.retryable };
      return [EMPTY_FRAME, SIG, COMMAND_FRAME.FAIL, msg.task, jsonFrame(detail)];
    }
    case "heartbeat":
      return heartbeatFrames(msg.interval);
    case "disconnect":
      return disconnectFrames(msg.detail);
    case "extend":
      return [EMPTY_FRAME, SIG, COMMAND_FRAME.EXTEND, msg.task, jsonFrame({ timeout: msg.timeout })];
    case "legacy-ready":
      return [...msg.path, msg.frame];
    case "peer-gone":
      return [PEER_GONE_FRAME];
    default:
      return unreachable(msg);
  }
}

/**
 * Peer side. After the delimiter, `ZTBW01` starts a modern message; any other first frame is a legacy task's id
 * (this broker's ids never look like a signature).
 */
export function decodeToWorker(frames: Frame[]): BrokerToWorker {
  const d = delimiterIndex(frames);
  if (!isSignature(afterDelimiter(frames, d), "worker", frames, d)) {
    return { type: "legacy-task", path: frames.slice(0, d + 1), task: taskIdAt(frames, d + 1, d, false), payload: frames.slice(d + 2) };
  }
  if (d !== 0) throw malformed("ZTB_ERR_DELIMITER", "a modern worker's message must start with the delimiter", frames, d, true);
  const command = findCommand(FROM_BROKER, need(frames, 2, "command", d, true));
  switch (command) {
    case "TASK": {
      const task = taskIdAt(frames, ARG, d, true);
      const header = jsonAt(frames, ARG + 1, validators.taskHeader, "TASK header", d, undefined);
      return { type: "task", task, header, payload: frames.slice(ARG + 2) };
    }
    case "HEARTBEAT":
      return heartbeatAt(frames, d);
    case "DISCONNECT":
      return disconnectAt(frames, d, undefined);
    case "CANCEL": {
      const [task, { reason }] = taskAndDetailAt(frames, d, validators.cancel, "CANCEL detail", undefined);
      return { type: "cancel", task, reason };
    }
    default:
      throw malformed("ZTB_ERR_UNKNOWN_COMMAND", "not a broker-to-worker command", frames, d, true);
  }
}

/**
 * Peer side, §JSON members (enumerated values may grow): the forward-compatible reading of a broker message that
 * `decodeToWorker` refused. A CANCEL whose JSON is unreadable or names a reason this revision does not know still
 * cancels its task, read as `cancelled`; such a DISCONNECT reads as one without JSON (treated like `shutdown`).
 * Returns undefined for anything else, which stays malformed.
 */
export function salvageToWorker(frames: Frame[]): BrokerToWorker | undefined {
  try {
    const d = delimiterIndex(frames);
    if (d !== 0 || !isSignature(afterDelimiter(frames, d), "worker", frames, d)) return undefined;
    const command = findCommand(FROM_BROKER, need(frames, 2, "command", d, true));
    if (command === "CANCEL" && frames.length === ARG + 2) return { type: "cancel", task: taskIdAt(frames, ARG, d, true), reason: "cancelled" };
    if (command === "DISCONNECT" && frames.length === ARG + 1) return { type: "disconnect" };
  } catch {
    // Not even the frames around the JSON are right: malformed as decodeToWorker said.
  }
  return undefined;
}
