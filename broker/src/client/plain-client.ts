/**
 * The prototype's plain client mode (protocol/spec.md §Client <-> broker, plain mode) over a DEALER socket: the request
 * is the payload frames, the reply is the worker's answer frames, and one empty frame means failure.
 *
 * Plain mode has no correlation id, so several requests in flight are matched through the envelope instead: each
 * request goes out as `corr-id "" payload+`; the broker copies the routing path (every frame up to the empty
 * delimiter) back into the reply (§Envelopes), so the reply arrives as `corr-id "" answer+`. To the broker this is a
 * REQ-compatible request that came through one more hop.
 */
import { Dealer } from "zeromq";
import { decodeClientReply, encodeClient } from "../codec";
import { SIGNATURE, type Frame } from "../protocol/messages";
import { idFrame, idKey, toFrames, type PayloadLike } from "../peer/frames";
import { silentLogger, type PeerLogger } from "../peer/logger";
import { SendQueue } from "../peer/send-queue";
import { ClientAbortedError, ClientClosedError, ClientSendError, ClientTimeoutError } from "./errors";
import { FinishedIds, IdGenerator, type ClientStats } from "./pending";

export interface PlainClientOptions {
  /** The broker's clients endpoint. */
  endpoint: string;
  /** Client-side deadline in ms per request; default 30000. */
  deadline?: number;
  logger?: PeerLogger;
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

interface Pending {
  readonly resolve: (reply: PlainReply) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

const EMPTY: Frame = new Uint8Array(0);
const DEFAULT_DEADLINE_MS = 30_000;
const SIGNATURE_FAMILY = SIGNATURE.client.slice(0, 4);

/** The broker reads `ZTBC` + two digits as an enveloped request of some version (§Client: plain mode). */
function looksEnveloped(frame: Frame): boolean {
  if (frame.length !== SIGNATURE.client.length) return false;
  const text = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("latin1");
  return text.startsWith(SIGNATURE_FAMILY) && /^\d\d$/.test(text.slice(4));
}

export class PlainClient {
  readonly stats: ClientStats = { duplicates: 0, late: 0, unmatched: 0 };

  private readonly socket = new Dealer({ linger: 0 });
  private readonly queue = new SendQueue(this.socket);
  private readonly pending = new Map<string, Pending>();
  private readonly finished = new FinishedIds();
  private readonly ids = new IdGenerator();
  private readonly logger: PeerLogger;
  private closed = false;

  /** Connects at once; throws if the endpoint is invalid. */
  constructor(private readonly options: PlainClientOptions) {
    this.logger = options.logger ?? silentLogger;
    try {
      this.socket.connect(options.endpoint);
    } catch (error) {
      this.socket.close();
      throw error;
    }
    void this.receive();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  request(payload: PayloadLike, options: PlainRequestOptions = {}): Promise<PlainReply> {
    const id = this.ids.next();
    const frames = toFrames(payload);
    if (frames.length === 0) return Promise.reject(new RangeError("a plain request needs at least one frame"));
    if (frames[0] !== undefined && looksEnveloped(frames[0])) {
      return Promise.reject(new RangeError(`a plain request cannot start with ${SIGNATURE.client} (or another version of it): use Client`));
    }
    if (this.closed) return Promise.reject(new ClientClosedError(id));
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(new ClientAbortedError(id, { cause: signal.reason }));
    const deadline = options.deadline ?? this.options.deadline ?? DEFAULT_DEADLINE_MS;

    return new Promise<PlainReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.abandon(id);
        reject(new ClientTimeoutError(id, deadline));
      }, deadline);
      const onAbort = (): void => {
        this.abandon(id);
        reject(new ClientAbortedError(id, { cause: signal?.reason }));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.pending.set(id, { resolve, reject, cleanup });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.send(encodeClient({ type: "plain-request", path: [idFrame(id), EMPTY], payload: frames })).catch(
        (error: unknown) => {
          if (this.pending.get(id)?.reject !== reject) return;
          this.abandon(id);
          reject(this.closed ? new ClientClosedError(id) : new ClientSendError(id, { cause: error }));
        },
      );
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, entry] of [...this.pending]) {
      this.abandon(id);
      entry.reject(new ClientClosedError(id));
    }
    this.queue.close();
    this.socket.close();
  }

  private abandon(id: string): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    entry.cleanup();
    this.pending.delete(id);
    this.finished.add(id, "abandoned");
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) this.onFrames(frames);
    } catch (error) {
      if (!this.closed) this.logger.warn("plain-client-receive-failed", { error: String(error) });
    }
  }

  private onFrames(frames: Frame[]): void {
    let id: string | undefined;
    let payload: Frame[];
    try {
      const msg = decodeClientReply(frames);
      if (msg.type !== "plain-reply") throw new Error("enveloped reply on a plain client");
      const corr = msg.path.length === 2 ? msg.path[0] : undefined;
      id = corr === undefined ? undefined : idKey(corr);
      payload = msg.payload;
    } catch (error) {
      this.stats.unmatched++;
      this.logger.warn("plain-client-malformed-reply", { error: String(error) });
      return;
    }
    const entry = id === undefined ? undefined : this.pending.get(id);
    if (id === undefined || entry === undefined) {
      this.finished.classify(id, this.stats);
      return;
    }
    entry.cleanup();
    this.pending.delete(id);
    this.finished.add(id, "answered");
    const failed = payload.length === 1 && payload[0]?.length === 0;
    entry.resolve({ ok: !failed, payload, id });
  }
}
