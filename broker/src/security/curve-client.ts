/**
 * CURVE options of a peer socket (protocol/spec.md §Security). Kept apart from the key-file code so that the worker
 * and client libraries pull in nothing but zeromq.
 */
import type { Socket } from "zeromq";
import { isZ85Key } from "./z85";

export interface PeerKeys {
  /** This peer's key pair (Z85): its public key must be in the broker's allow-list for the endpoint. */
  publicKey: string;
  secretKey: string;
  /** The broker's public key (Z85). */
  serverKey: string;
}

/**
 * Makes `socket` a CURVE client of the broker (ZMQ_CURVE_SERVERKEY, ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY).
 * Call before `connect`: libzmq takes the options when the connection is created.
 */
export function applyClientSecurity(socket: Socket, keys: PeerKeys): void {
  for (const [name, key] of [
    ["publicKey", keys.publicKey],
    ["secretKey", keys.secretKey],
    ["serverKey", keys.serverKey],
  ] as const) {
    if (!isZ85Key(key)) throw new RangeError(`${name} is not a Z85 key`);
  }
  socket.curveServerKey = keys.serverKey;
  socket.curvePublicKey = keys.publicKey;
  socket.curveSecretKey = keys.secretKey;
}
