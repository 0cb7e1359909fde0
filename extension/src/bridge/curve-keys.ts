/**
 * CURVE in the monitor child (protocol/spec.md §Security): loading the keys the settings name, with the broker's own
 * loaders (broker/src/security), and watching a socket's handshakes for the failures curve-diagnosis.ts explains.
 */
import type { Socket } from "zeromq";
import { loadKeyPair, loadPublicKey, SecurityOptionError, type PeerKeys } from "../../../broker/src/security";
import { CURVE_SETTINGS } from "../broker/curve";
import { diagnoseHandshake, type CurveProblem, type HandshakeContext, type HandshakeFailure } from "./curve-diagnosis";
import type { CurveFiles } from "./ipc";

/** Reads the certificate and the server key; errors are one line naming the setting and the file. */
export async function loadCurveKeys(files: CurveFiles): Promise<PeerKeys> {
  const pair = await loadKeyPair(files.certificate).catch((error: Error) => {
    throw new SecurityOptionError(CURVE_SETTINGS.extensionCertificate, error);
  });
  const serverKey = await loadPublicKey(files.serverKey).catch((error: Error) => {
    throw new SecurityOptionError(files.serverKeySetting, error);
  });
  return { ...pair, serverKey };
}

/** What a socket's handshakes did so far. */
export interface HandshakeState {
  /** A TCP (or ipc) connection was made. */
  connected: boolean;
  /** A handshake succeeded (the broker let this key in). */
  succeeded: boolean;
}

/**
 * Listens to `socket`'s handshake events and calls `onProblem` for each failure that has an explanation (libzmq
 * retries, so the caller reports once). The listeners go away with the socket.
 */
export function watchHandshakes(socket: Socket, at: HandshakeContext, onProblem: (problem: CurveProblem) => void): HandshakeState {
  const state: HandshakeState = { connected: false, succeeded: false };
  socket.events.on("connect", () => {
    state.connected = true;
  });
  socket.events.on("handshake", () => {
    state.succeeded = true;
  });
  const failed = (failure: HandshakeFailure, code: string | undefined): void => {
    const problem = diagnoseHandshake(failure, code, at);
    if (problem) onProblem(problem);
  };
  socket.events.on("handshake:error:auth", (event) => failed("auth", `ZAP status ${event.error.status}`));
  socket.events.on("handshake:error:protocol", (event) => failed("protocol", event.error.code));
  socket.events.on("handshake:error:other", (event) => failed("other", event.error.code));
  return state;
}
