/**
 * A failed ZMTP handshake as a one-line message naming the likely cause (protocol/spec.md §Security). Pure: the
 * monitor child feeds it libzmq's handshake events (bridge/curve-keys.ts watchHandshakes).
 *
 * What libzmq 4.3.5 reports to a connecting peer, measured against the broker's CURVE + ZAP sockets:
 * - key not in the allow-list: the ZAP handler answers 400, the peer gets `handshake:error:auth` (status 400);
 * - wrong server key: the broker cannot open the HELLO and drops the connection, the peer gets `handshake:error:other`
 *   (EPIPE) on every reconnect;
 * - CURVE on one side only: `handshake:error:protocol` with ERR_ZMTP_MECHANISM_MISMATCH.
 */
import type { CurveCause } from "./ipc";

export type HandshakeFailure = "auth" | "protocol" | "other";

/** The broker endpoint a socket of the extension connects to, and the allow-list that endpoint checks. */
export type PeerRole = "admin" | "clients";

const ALLOW_LIST: Readonly<Record<PeerRole, string>> = {
  admin: "admin allow-list (--admin-keys)",
  clients: "client allow-list (--client-keys)",
};

export interface CurveProblem {
  cause: CurveCause;
  message: string;
}

export interface HandshakeContext {
  endpoint: string;
  role: PeerRole;
  /** The extension's public key when CURVE is on; undefined = plain. */
  publicKey: string | undefined;
  /** The setting the broker's public key came from. */
  serverKeySetting: string;
}

export function diagnoseHandshake(failure: HandshakeFailure, code: string | undefined, at: HandshakeContext): CurveProblem | undefined {
  const curve = at.publicKey !== undefined;
  if (code === "ERR_ZMTP_MECHANISM_MISMATCH") {
    return curve
      ? { cause: "not-curve", message: `the broker at ${at.endpoint} does not use CURVE; clear the ztb.curve settings to connect without it` }
      : {
          cause: "needs-curve",
          message: `the broker at ${at.endpoint} requires CURVE: set ztb.curve.serverKey and ztb.curve.extensionCertificate`,
        };
  }
  if (!curve) return undefined;
  if (failure === "auth") {
    return {
      cause: "refused",
      message: `the broker at ${at.endpoint} refused the extension's CURVE key ${at.publicKey}: it is not in the broker's ${ALLOW_LIST[at.role]}`,
    };
  }
  return {
    cause: "server-key",
    message: `the CURVE handshake with ${at.endpoint} failed (${code ?? failure}): ${at.serverKeySetting} is probably not this broker's public key`,
  };
}

/** A TCP connection was made but no handshake finished or failed within `seconds` while CURVE is on. */
export function silentHandshake(at: HandshakeContext, seconds: number): CurveProblem {
  return {
    cause: "silent",
    message:
      `no CURVE handshake with ${at.endpoint} within ${seconds} s: the extension's key may not be in the broker's ` +
      `${ALLOW_LIST[at.role]}, or ${at.serverKeySetting} is not its public key`,
  };
}
