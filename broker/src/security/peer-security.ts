/**
 * CURVE for the broker's peers (workers, clients, monitors): their own key pair and the broker's public key
 * (protocol/spec.md §Security). The CLIs take `--curve-key FILE` (the peer's NAME.key_secret) and
 * `--server-key FILE|Z85` (the broker's NAME.key, or the key itself).
 */
import type { PeerKeys } from "./curve-client";
import { loadKeyPair, loadPublicKey } from "./keys";

/** A peer option that could not be used; message `--curve-key /x: ...`, one line. */
export class SecurityOptionError extends Error {
  constructor(
    readonly option: string,
    readonly detail: Error,
  ) {
    super(`${option} ${detail.message}`);
    this.name = "SecurityOptionError";
  }
}

/** Loads --curve-key and --server-key; errors are SecurityOptionErrors naming the option. */
export async function loadPeerKeys(options: { curveKey: string; serverKey: string }): Promise<PeerKeys> {
  const pair = await loadKeyPair(options.curveKey).catch((error: Error) => {
    throw new SecurityOptionError("--curve-key", error);
  });
  const serverKey = await loadPublicKey(options.serverKey).catch((error: Error) => {
    throw new SecurityOptionError("--server-key", error);
  });
  return { ...pair, serverKey };
}

/**
 * The CLI's view: both options given = CURVE on, neither = off (undefined), one alone = a SecurityOptionError.
 */
export async function peerKeysFromOptions(options: { curveKey?: string; serverKey?: string }): Promise<PeerKeys | undefined> {
  const { curveKey, serverKey } = options;
  if (curveKey === undefined && serverKey === undefined) return undefined;
  if (curveKey === undefined) throw new SecurityOptionError("--server-key", new Error("needs --curve-key FILE (this peer's NAME.key_secret)"));
  if (serverKey === undefined) throw new SecurityOptionError("--curve-key", new Error("needs --server-key FILE|Z85 (the broker's public key)"));
  return loadPeerKeys({ curveKey, serverKey });
}
