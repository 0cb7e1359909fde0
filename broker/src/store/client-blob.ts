/**
 * A task's client reference (peer key, routing path, mode, correlation id) as one BLOB, and a list of them for the
 * requests attached by key. Built on the frame-list encoding: [peer, mode, correlation?, ...path].
 */
import type { ClientRecord } from "../core/journal";
import { blobToFrames, framesToBlob } from "./frames-blob";

const PLAIN = 0;
const ENVELOPED = 1;
const ENVELOPED_WITH_ID = 2;

export function clientToBlob(client: ClientRecord): Buffer {
  // Peer keys are routing ids read as latin1 (server/peer-keys.ts): one octet per character both ways.
  const peer = Buffer.from(client.peer, "latin1");
  if (!client.enveloped) return framesToBlob([peer, Uint8Array.of(PLAIN), ...client.path]);
  if (client.correlation === undefined) return framesToBlob([peer, Uint8Array.of(ENVELOPED), ...client.path]);
  return framesToBlob([peer, Uint8Array.of(ENVELOPED_WITH_ID), Buffer.from(client.correlation, "utf8"), ...client.path]);
}

export function blobToClient(blob: Uint8Array): ClientRecord {
  const [peer, mode, ...rest] = blobToFrames(blob);
  if (peer === undefined || mode === undefined || mode.length !== 1) throw new RangeError("not a client reference");
  const peerKey = Buffer.from(peer).toString("latin1");
  switch (mode[0]) {
    case PLAIN:
      return { peer: peerKey, path: rest, enveloped: false };
    case ENVELOPED:
      return { peer: peerKey, path: rest, enveloped: true };
    case ENVELOPED_WITH_ID: {
      const [correlation, ...path] = rest;
      if (correlation === undefined) throw new RangeError("a client reference without its correlation id");
      return { peer: peerKey, path, enveloped: true, correlation: Buffer.from(correlation).toString("utf8") };
    }
    default:
      throw new RangeError(`unknown client mode ${String(mode[0])}`);
  }
}

export function clientsToBlob(clients: readonly ClientRecord[]): Buffer {
  return framesToBlob(clients.map(clientToBlob));
}

export function blobToClients(blob: Uint8Array): ClientRecord[] {
  return blobToFrames(blob).map(blobToClient);
}
