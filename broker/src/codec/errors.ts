/**
 * The codec's one error class and its stable codes (protocol/spec.md §Error codes). Tests assert codes, never
 * message texts; the spec's table of codes is checked equal to ERROR_CODES by test/protocol/spec-tables.test.ts.
 */
import type { RoutingPath } from "../protocol/messages";

export const ERROR_CODES = [
  "ZTB_ERR_DELIMITER",
  "ZTB_ERR_SIGNATURE",
  "ZTB_ERR_VERSION",
  "ZTB_ERR_UNKNOWN_COMMAND",
  "ZTB_ERR_MISSING_FRAME",
  "ZTB_ERR_EXTRA_FRAME",
  "ZTB_ERR_BAD_JSON",
  "ZTB_ERR_SCHEMA",
  "ZTB_ERR_TOO_LARGE",
  "ZTB_ERR_EMPTY",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ProtocolErrorContext {
  path?: RoutingPath;
  enveloped?: boolean;
  cause?: unknown;
}

/** A message a peer sent (or the broker sent, on the peer side) that breaks protocol v1. The only error decoders throw. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  /** The routing path when the delimiter was found, so the receiver can still answer the sender. */
  readonly path: RoutingPath | undefined;
  /**
   * True once the message carried its endpoint's signature family (`ZTBx` + any version): the sender speaks the
   * enveloped protocol and can be answered in it (client REPLY failed/malformed, worker DISCONNECT, admin ERROR).
   */
  readonly enveloped: boolean;

  constructor(code: ErrorCode, message: string, context: ProtocolErrorContext = {}) {
    super(`${code}: ${message}`, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = "ProtocolError";
    this.code = code;
    this.path = context.path;
    this.enveloped = context.enveloped ?? false;
  }
}
