/** How monitors show a frame (protocol/spec.md §Admin, FrameView): text when printable UTF-8, hex otherwise. */
import type { Frame, FrameView } from "../protocol/messages";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const HEX = Array.from({ length: 256 }, (_, octet) => octet.toString(16).padStart(2, "0"));

/** C0 controls other than tab, line feed and carriage return; DEL and the C1 controls. */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x7f && code <= 0x9f);
}

function printable(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i))) return false;
  return true;
}

/** Where a view cut at `limit` must end so that it does not split the UTF-8 character that straddles the cut. */
function characterBoundary(frame: Frame, limit: number): number {
  for (let i = limit - 1; i >= 0 && i >= limit - 3; i--) {
    const octet = frame[i] ?? 0;
    if (octet < 0x80) return limit; // ASCII: nothing straddles
    if (octet >= 0xc0) {
      const length = octet >= 0xf0 ? 4 : octet >= 0xe0 ? 3 : 2;
      return i + length > limit ? i : limit;
    }
  }
  return limit;
}

/**
 * Shows at most `max` octets of `frame`. A text view never ends inside a UTF-8 sequence: when the cut would split
 * a character, the text stops before it (so it may hold up to 3 octets fewer than `max`).
 */
export function frameView(frame: Frame, max: number = Number.POSITIVE_INFINITY): FrameView {
  const limit = max >= 0 ? Math.min(frame.length, Math.floor(max)) : 0;
  const end = limit < frame.length ? characterBoundary(frame, limit) : limit;
  let text: string | undefined;
  try {
    text = strictUtf8.decode(frame.subarray(0, end));
  } catch {
    text = undefined;
  }
  if (text !== undefined && printable(text)) return { text };
  let hex = "";
  for (let i = 0; i < limit; i++) hex += HEX[frame[i] ?? 0];
  return { hex };
}
