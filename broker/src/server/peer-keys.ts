/**
 * ROUTER routing ids <-> the core's string `PeerKey`s. latin1 maps every byte to one UTF-16 code unit and back, so the
 * mapping is lossless for any id (libzmq's generated ids start with a 0x00 byte) and costs no hex formatting.
 */
import type { PeerKey } from "../core/api";

export function peerKey(routingId: Uint8Array): PeerKey {
  return Buffer.from(routingId.buffer, routingId.byteOffset, routingId.byteLength).toString("latin1");
}

export function routingId(key: PeerKey): Buffer {
  return Buffer.from(key, "latin1");
}

/** A printable form of a key for logs. */
export function showPeer(key: PeerKey): string {
  return Buffer.from(key, "latin1").toString("hex");
}
