/**
 * One async receive loop per socket, and the per-endpoint translation of received frames into core `Input`s.
 *
 * zeromq.js completes `receive()` synchronously while messages are queued (up to 512 in a row before yielding to the
 * event loop), so awaiting each message drains a socket in a batch without extra machinery.
 *
 * Only the codec indexes into frames: the shell removes the ROUTER's routing-id frame (it becomes the `PeerKey`) and
 * hands the rest to the codec, with the whole-message bounds of §Limits (the codec refuses a message over them before
 * reading it, with ZTB_ERR_TOO_LARGE; libzmq's ZMQ_MAXMSGSIZE has already refused any single frame over them). A
 * `ProtocolError` becomes `{kind: "malformed"}` (protocol/spec.md §Codec error codes); the core counts it and answers
 * or disconnects the peer as the spec says.
 */
import type { Endpoint, Input, PeerKey } from "../core/api";
import type { MessageBounds } from "../protocol/limits";
import type { Frame } from "../protocol/messages";
import { connectNoticeId, decodeAdmin, decodeAnswer, decodeClient, decodeWorker, ProtocolError } from "../codec";
import type { Logger } from "./logger";
import { peerKey } from "./peer-keys";
import { errorCode, errorMessage } from "./send-queue";

export interface Receiver {
  receive(): Promise<Buffer[]>;
  readonly closed: boolean;
}

/** Receives until the socket is closed, calling `onMessage` for each multipart message. */
export async function receiveLoop(
  socket: Receiver,
  name: string,
  logger: Logger,
  onMessage: (frames: Buffer[]) => void,
): Promise<void> {
  while (!socket.closed) {
    let frames: Buffer[];
    try {
      frames = await socket.receive();
    } catch (err) {
      if (socket.closed) return;
      // EAGAIN here means the socket is being closed under us; anything else is unexpected but not fatal.
      if (errorCode(err) === "EAGAIN") continue;
      logger.error("receive-failed", { socket: name, code: errorCode(err) ?? null, message: errorMessage(err) });
      continue;
    }
    onMessage(frames);
  }
}

/** The outcome of reading one message: an input for the core, or nothing (a notification the core has no use for). */
export type Decoded = Input | undefined;

function malformed(endpoint: Endpoint, peer: PeerKey | undefined, err: ProtocolError): Input {
  const input: Input = { kind: "malformed", endpoint, code: err.code, detail: err.message };
  if (peer !== undefined) input.peer = peer;
  if (err.path !== undefined) input.replyPath = err.path;
  input.enveloped = err.enveloped;
  return input;
}

/**
 * Removes the routing-id frame in place (no copy of the frame list) and returns the peer's key, or undefined for a
 * message with no frames at all (cannot happen on a ROUTER; guards the types).
 */
function takePeer(frames: Buffer[]): PeerKey | undefined {
  const id = frames.shift();
  return id === undefined ? undefined : peerKey(id);
}

/**
 * zeromq.js copies every received frame of at most this many bytes into a Buffer with its own backing store
 * (~200 bytes of bookkeeping beyond the data); larger frames are zero-copy.
 */
const SMALL_FRAME = 128;

/**
 * Re-homes a queued request's small payload frames into Node's shared 8 KiB Buffer pool (Buffer.from copies small
 * arrays into it), which roughly halves the memory a burst of small queued tasks holds. The cost: a pool slab lives as
 * long as any task whose payload is in it (at most 8 KiB per long-lived small task).
 */
function pooled(payload: Frame[]): void {
  for (let i = 0; i < payload.length; i++) {
    const frame = payload[i] as Frame;
    if (frame.length > 0 && frame.length <= SMALL_FRAME) payload[i] = Buffer.from(frame);
  }
}

/**
 * Clients endpoint. The codec turns the disconnect notification (ZMQ_DISCONNECT_MSG) into `{type: "peer-gone"}`,
 * as on every ROUTER.
 */
export function clientInput(frames: Buffer[], bounds: MessageBounds): Decoded {
  const peer = takePeer(frames);
  if (peer === undefined) return undefined;
  try {
    const msg = decodeClient(frames, bounds);
    if (msg.type === "plain-request" || msg.type === "request") pooled(msg.payload);
    return { kind: "client", peer, msg };
  } catch (err) {
    if (err instanceof ProtocolError) return malformed("clients", peer, err);
    throw err;
  }
}

/**
 * The peer of a connect notice (ZMQ_ROUTER_NOTIFY) on the workers or admin ROUTER, which turn notices on only with
 * CURVE (to learn each connection's key, see ConnectionKeys); undefined for any other message.
 */
export function connectNotice(frames: Buffer[]): PeerKey | undefined {
  const id = connectNoticeId(frames);
  return id === undefined ? undefined : peerKey(id);
}

/** Workers endpoint. */
export function workerInput(frames: Buffer[], bounds: MessageBounds): Decoded {
  const peer = takePeer(frames);
  if (peer === undefined) return undefined;
  try {
    return { kind: "worker", peer, msg: decodeWorker(frames, bounds) };
  } catch (err) {
    if (err instanceof ProtocolError) return malformed("workers", peer, err);
    throw err;
  }
}

/** Answers endpoint (PULL: no routing id, no peer). */
export function answerInput(frames: Buffer[], bounds: MessageBounds): Decoded {
  try {
    return { kind: "answer", msg: decodeAnswer(frames, bounds) };
  } catch (err) {
    if (err instanceof ProtocolError) return malformed("answers", undefined, err);
    throw err;
  }
}

/** Admin endpoint. */
export function adminInput(frames: Buffer[], bounds: MessageBounds): Decoded {
  const peer = takePeer(frames);
  if (peer === undefined) return undefined;
  try {
    return { kind: "admin", peer, msg: decodeAdmin(frames, bounds) };
  } catch (err) {
    if (err instanceof ProtocolError) return malformed("admin", peer, err);
    throw err;
  }
}
