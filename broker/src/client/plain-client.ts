/**
 * The prototype's plain client mode (protocol/spec.md §Client <-> broker, plain mode) over a DEALER socket: the request
 * is the payload frames, the reply is the worker's answer frames, and one empty frame means failure.
 *
 * Plain mode has no correlation id, so several requests in flight are matched through the envelope instead: each
 * request goes out as `corr-id "" payload+`; the broker copies the routing path (every frame up to the empty
 * delimiter) back into the reply (§Envelopes), so the reply arrives as `corr-id "" answer+`. To the broker this is a
 * REQ-compatible request that came through one more hop.
 */
import { decodeClientReply, encodeClient, isClientSignature, isPlainFailure, oneHopPath, onlyHop } from "../codec";
import { SIGNATURE, type Frame } from "../protocol/messages";
import { idFrame, idKey, toFrames, type PayloadLike } from "../peer/frames";
import { silentLogger, type PeerLogger } from "../peer/logger";
import type { PeerKeys } from "../security/curve-client";
import { ClientConnection } from "./connection";
import { ClientAbortedError, ClientClosedError } from "./errors";
import type { ClientStats } from "./pending";

export interface PlainClientOptions {
  /** The broker's clients endpoint. */
  endpoint: string;
  /** Client-side deadline in ms per request; default 30000. */
  deadline?: number;
  logger?: PeerLogger;
  /** CURVE (protocol/spec.md §Security): this peer's key pair and the broker's public key; default: none. */
  curve?: PeerKeys;
}

export interface PlainRequestOptions {
  /** Aborting rejects at once with ClientAbortedError (plain mode cannot cancel at the broker). */
  signal?: AbortSignal;
  deadline?: number;
}

export interface PlainReply {
  /** False when the broker answered the one empty frame that means failure (all attempts used up). */
  ok: boolean;
  /** The worker's answer frames (on failure: the single empty frame). */
  payload: Uint8Array[];
  /** The correlation id carried in the envelope. */
  id: string;
}

const DEFAULT_DEADLINE_MS = 30_000;

export class PlainClient {
  readonly stats: ClientStats;

  private readonly connection: ClientConnection<PlainReply>;

  /** Connects at once; throws if the endpoint is invalid. */
  constructor(private readonly options: PlainClientOptions) {
    const logger = options.logger ?? silentLogger;
    // One endpoint only: a plain request carries no key, so a resend to another broker could run it twice.
    this.connection = new ClientConnection(
      { endpoints: [options.endpoint], curve: options.curve },
      logger,
      "plain-client",
      (frames) => this.onFrames(frames),
    );
    this.stats = this.connection.stats;
  }

  get inFlight(): number {
    return this.connection.inFlight;
  }

  request(payload: PayloadLike, options: PlainRequestOptions = {}): Promise<PlainReply> {
    const id = this.connection.ids.next();
    const frames = toFrames(payload);
    const [first] = frames;
    if (first === undefined) return Promise.reject(new RangeError("a plain request needs at least one frame"));
    if (isClientSignature(first)) {
      return Promise.reject(new RangeError(`a plain request cannot start with ${SIGNATURE.client} (or another version of it): use Client`));
    }
    if (this.connection.closed) return Promise.reject(new ClientClosedError(id));
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(new ClientAbortedError(id, { cause: signal.reason }));
    const deadline = options.deadline ?? this.options.deadline ?? DEFAULT_DEADLINE_MS;
    // No cancel and no abortWait: plain mode cannot cancel at the broker, so an abort rejects at once.
    const encode = (): Frame[] => encodeClient({ type: "plain-request", path: oneHopPath(idFrame(id)), payload: frames });
    return this.connection.request(id, encode, { deadline, signal });
  }

  close(): void {
    this.connection.close();
  }

  private onFrames(frames: Frame[]): void {
    let id: string | undefined;
    let payload: Frame[];
    try {
      const msg = decodeClientReply(frames);
      if (msg.type !== "plain-reply") throw new Error("enveloped reply on a plain client");
      const corr = onlyHop(msg.path);
      id = corr === undefined ? undefined : idKey(corr);
      payload = msg.payload;
    } catch (error) {
      this.connection.malformed(error);
      return;
    }
    this.connection.answer(id, (answered) => {
      return { ok: !isPlainFailure(payload), payload, id: answered };
    });
  }
}
