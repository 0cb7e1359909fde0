/**
 * `--curve-key FILE` and `--server-key FILE|Z85` of the peer commands (ztb worker, ztb client, ztb client send):
 * CURVE to a broker started with --curve-secret (protocol/spec.md §Security). Both or neither.
 */
import type { PeerKeys } from "../security";
import { peerKeysFromOptions, SecurityOptionError } from "../security";
import { UsageError } from "./peer-args";

export const PEER_CURVE_OPTIONS = {
  "curve-key": { type: "string" },
  "server-key": { type: "string" },
} as const;

export const PEER_CURVE_USAGE =
  "  --curve-key FILE     CURVE: this peer's key pair, a NAME.key_secret from ztb keygen (with --server-key)\n" +
  "  --server-key KEY     CURVE: the broker's public key, its NAME.key file or the Z85 key itself\n";

export interface PeerCurveValues {
  "curve-key"?: string;
  "server-key"?: string;
}

/** The keys, or undefined without either option; a bad or missing file is a one-line UsageError naming the option. */
export async function peerCurve(values: PeerCurveValues): Promise<PeerKeys | undefined> {
  try {
    return await peerKeysFromOptions({ curveKey: values["curve-key"], serverKey: values["server-key"] });
  } catch (err) {
    throw err instanceof SecurityOptionError ? new UsageError(err.message) : err;
  }
}
