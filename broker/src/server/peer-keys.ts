/**
 * ROUTER routing ids <-> the core's string `PeerKey`s. latin1 maps every byte to one UTF-16 code unit and back, so the
 * mapping is lossless for any id (libzmq's generated ids start with a 0x00 byte) and costs no hex formatting.
 */
import type { PeerKey } from "../core/api";

let lastId: Uint8Array = new Uint8Array(0);
let lastKey: PeerKey = "";

/**
 * Consecutive messages mostly come from the same peer (a pipelining client), so the key of the previous id is reused
 * when the bytes match: every queued task then shares one key string instead of holding its own.
 */
export function peerKey(routingId: Uint8Array): PeerKey {
  if (sameBytes(routingId, lastId)) return lastKey;
  lastKey = Buffer.from(routingId.buffer, routingId.byteOffset, routingId.byteLength).toString("latin1");
  lastId = routingId;
  return lastKey;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Peers a broker talks to at once are few; the bound keeps departed peers from piling up (cleared when full). */
const ROUTING_ID_CACHE_SIZE = 4096;
const routingIds = new Map<PeerKey, Buffer>();

/**
 * The routing-id frame for a key, cached: every send needs one, and re-encoding the string each time showed in the
 * broker's profile. The Buffers are shared (zeromq.js copies small frames at send): never mutate them.
 */
export function routingId(key: PeerKey): Buffer {
  let id = routingIds.get(key);
  if (id === undefined) {
    if (routingIds.size >= ROUTING_ID_CACHE_SIZE) routingIds.clear();
    id = Buffer.from(key, "latin1");
    routingIds.set(key, id);
  }
  return id;
}

/** A printable form of a key for logs. */
export function showPeer(key: PeerKey): string {
  return Buffer.from(key, "latin1").toString("hex");
}
