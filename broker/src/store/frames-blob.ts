/**
 * Frame lists as one SQLite BLOB: each frame as a 4-octet big-endian length and its octets. Frames are opaque octets
 * (payloads, routing ids), so no text encoding is involved.
 */
import type { Frame } from "../protocol/messages";

export function framesToBlob(frames: readonly Frame[]): Buffer {
  let size = 0;
  for (const frame of frames) size += 4 + frame.length;
  const blob = Buffer.allocUnsafe(size);
  let at = 0;
  for (const frame of frames) {
    blob.writeUInt32BE(frame.length, at);
    blob.set(frame, at + 4);
    at += 4 + frame.length;
  }
  return blob;
}

export function blobToFrames(blob: Uint8Array): Frame[] {
  const view = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const frames: Frame[] = [];
  let at = 0;
  while (at < view.length) {
    if (at + 4 > view.length) throw new RangeError("a frame list ends inside a length");
    const length = view.readUInt32BE(at);
    const end = at + 4 + length;
    if (end > view.length) throw new RangeError("a frame list ends inside a frame");
    // A copy: the frames outlive the row buffer better-sqlite3 handed out, and are small.
    frames.push(Buffer.from(view.subarray(at + 4, end)));
    at = end;
  }
  return frames;
}
