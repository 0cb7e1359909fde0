/**
 * A ZAP handler (ZeroMQ RFC 27/ZAP): libzmq asks it, over `inproc://zeromq.zap.01` in the server sockets' context,
 * whether each peer completing a CURVE handshake may connect; the peer is dropped unless the answer is "200".
 *
 * This file only speaks ZAP (§Message Format); who is allowed is decided by a `ZapAuthorizer` (the broker's is
 * `KeyPolicy`). The handler is a REP socket (RFC 27 §Socket Types), so the envelope is handled by libzmq and one
 * request is answered at a time — decisions are in-memory lookups, so there is nothing to overlap.
 *
 * A refused peer reconnects and is refused again every reconnect interval (100 ms by default), so refusals are
 * reported through `onRefusal` at most once per `refusalReportInterval` per (domain, key), with a count.
 */
import { Context, Reply, context as defaultContext } from "zeromq";
import { z85Encode } from "./z85";

export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
const ZAP_VERSION = "1.0";

/** RFC 27 §Message Format, request frames after the envelope. */
export interface ZapRequest {
  requestId: Uint8Array;
  domain: string;
  /** The peer's IP address. */
  address: string;
  identity: Uint8Array;
  /** "NULL", "PLAIN" or "CURVE". */
  mechanism: string;
  /** CURVE: one frame, the peer's 32-octet long-term public key. */
  credentials: Uint8Array[];
}

export interface ZapDecision {
  allowed: boolean;
  /** Sent as the ZAP user id when allowed (ASCII, <= 255 characters). */
  userId: string;
  /** Why; the ZAP status text and what refusal reports carry. */
  reason: string;
}

export interface ZapAuthorizer {
  authorize(request: ZapRequest): ZapDecision;
}

export interface ZapRefusal {
  domain: string;
  address: string;
  mechanism: string;
  /** The peer's CURVE public key in Z85, or null for other mechanisms. */
  key: string | null;
  reason: string;
  /** Refusals of this (domain, key) since the previous report, this one included. */
  count: number;
}

export interface ZapStats {
  allowed: number;
  refused: number;
  /** Requests that were not valid ZAP 1.0 (answered 500; libzmq then drops the peer). */
  malformed: number;
  refusedByDomain: Record<string, number>;
}

export interface ZapHandlerOptions {
  authorizer: ZapAuthorizer;
  /** The context of the sockets it guards (ZAP is per context). Default: zeromq.js's global context. */
  context?: Context;
  onRefusal?: (refusal: ZapRefusal) => void;
  /** Minimum ms between two reports of the same (domain, key). Default 60 000. */
  refusalReportInterval?: number;
  /** A failure of the handler's own socket (the handler has stopped; every later handshake fails). */
  onError?: (error: unknown) => void;
  /**
   * Called for each allowed handshake before its reply is sent, with the ZAP domain and the user id (the key); the
   * handler answers nothing else until the returned promise settles (see ConnectionKeys).
   */
  expect?: (domain: string, userId: string) => Promise<void>;
}

const text = (frame: Uint8Array | undefined): string =>
  frame === undefined ? "" : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("latin1");

/** Parses a request as received on a REP socket (envelope removed); undefined when it is not ZAP 1.0. */
export function parseZapRequest(frames: readonly Uint8Array[]): ZapRequest | undefined {
  const [version, requestId, domain, address, identity, mechanism, ...credentials] = frames;
  if (text(version) !== ZAP_VERSION || mechanism === undefined) return undefined;
  if (requestId === undefined || domain === undefined || address === undefined || identity === undefined) return undefined;
  return { requestId, domain: text(domain), address: text(address), identity, mechanism: text(mechanism), credentials };
}

/** RFC 27 reply frames: version, request id, status code, status text, user id, metadata (empty). */
export function zapReply(requestId: Uint8Array, status: "200" | "400" | "500", statusText: string, userId: string): Uint8Array[] {
  const ascii = (s: string) => Buffer.from(s.replace(/[^\x20-\x7e]/g, "?").slice(0, 255), "latin1");
  return [Buffer.from(ZAP_VERSION), requestId, Buffer.from(status), ascii(statusText), ascii(userId), Buffer.alloc(0)];
}

/** Keys of the refusal-throttling table above which it is cleared (bounds memory under a flood of random keys). */
const MAX_TRACKED_REFUSALS = 10_000;

export class ZapHandler {
  readonly context: Context;
  private readonly socket: Reply;
  private readonly stats_: ZapStats = { allowed: 0, refused: 0, malformed: 0, refusedByDomain: {} };
  private readonly lastReport = new Map<string, { at: number; suppressed: number }>();
  private running: Promise<void> | undefined;

  constructor(private readonly options: ZapHandlerOptions) {
    this.context = options.context ?? defaultContext;
    this.socket = new Reply({ context: this.context, linger: 0 });
  }

  /**
   * Binds the ZAP endpoint and starts answering. RFC 27 §Architecture: the handler starts before any server socket
   * binds. Fails with EADDRINUSE when the context already has a ZAP handler.
   */
  async start(): Promise<void> {
    await this.socket.bind(ZAP_ENDPOINT);
    this.running = this.serve();
  }

  /** Stops answering. Guarded sockets set `zapEnforceDomain`, so from now on their handshakes fail (closed, not open). */
  async close(): Promise<void> {
    this.socket.close();
    await this.running;
  }

  get stats(): Readonly<ZapStats> {
    return { ...this.stats_, refusedByDomain: { ...this.stats_.refusedByDomain } };
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const { reply, connected } = this.answer(frames);
        await this.socket.send(reply);
        await connected;
      }
    } catch (error) {
      if (!this.socket.closed) this.options.onError?.(error);
    }
  }

  private answer(frames: readonly Uint8Array[]): { reply: Uint8Array[]; connected?: Promise<void> } {
    const request = parseZapRequest(frames);
    if (request === undefined) {
      this.stats_.malformed += 1;
      // RFC 27 frames (this file is the ZAP codec): the request id is the second, echoed even in a refusal.
      const [, requestId] = frames;
      return { reply: zapReply(requestId ?? Buffer.alloc(0), "500", "malformed ZAP request", "") };
    }
    let decision: ZapDecision;
    try {
      decision = this.options.authorizer.authorize(request);
    } catch (error) {
      decision = { allowed: false, userId: "", reason: `authorizer failed: ${String(error)}` };
    }
    if (decision.allowed) {
      this.stats_.allowed += 1;
      // Registered before the reply goes out, so the connection's notice cannot come first.
      const connected = this.options.expect?.(request.domain, decision.userId);
      return { reply: zapReply(request.requestId, "200", "OK", decision.userId), connected };
    }
    this.stats_.refused += 1;
    this.stats_.refusedByDomain[request.domain] = (this.stats_.refusedByDomain[request.domain] ?? 0) + 1;
    this.report(request, decision.reason);
    return { reply: zapReply(request.requestId, "400", decision.reason, "") };
  }

  private report(request: ZapRequest, reason: string): void {
    const onRefusal = this.options.onRefusal;
    if (onRefusal === undefined) return;
    const credential = request.credentials[0];
    const key = request.mechanism === "CURVE" && credential?.length === 32 ? z85Encode(credential) : null;
    const id = `${request.domain}\n${key ?? request.address}`;
    const now = Date.now();
    const last = this.lastReport.get(id);
    if (last !== undefined && now - last.at < (this.options.refusalReportInterval ?? 60_000)) {
      last.suppressed += 1;
      return;
    }
    if (this.lastReport.size >= MAX_TRACKED_REFUSALS) this.lastReport.clear();
    this.lastReport.set(id, { at: now, suppressed: 0 });
    const { domain, address, mechanism } = request;
    onRefusal({ domain, address, mechanism, key, reason, count: 1 + (last?.suppressed ?? 0) });
  }
}
