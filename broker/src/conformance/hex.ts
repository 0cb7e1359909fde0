/** How the checker shows offending messages: each frame in lower-case hex, an empty frame as `""` (the spec's notation). */

const MAX_FRAME_OCTETS = 64;

export function framesHex(frames: readonly Uint8Array[]): string {
  return frames.map(frameHex).join(" ");
}

function frameHex(frame: Uint8Array): string {
  if (frame.length === 0) return '""';
  const shown = Buffer.from(frame.buffer, frame.byteOffset, Math.min(frame.length, MAX_FRAME_OCTETS)).toString("hex");
  return frame.length > MAX_FRAME_OCTETS ? `${shown}…(+${frame.length - MAX_FRAME_OCTETS})` : shown;
}

/** A task id as people read it: text when printable ASCII, else 0x-hex. */
export function showId(id: Uint8Array): string {
  const buffer = Buffer.from(id.buffer, id.byteOffset, id.byteLength);
  return /^[\x21-\x7e]+$/.test(buffer.toString("latin1")) ? buffer.toString("latin1") : `0x${buffer.toString("hex")}`;
}
