/** Bytes shown to a person (ztb-brief §Admin `Frame`): UTF-8 text when printable, hex otherwise. */
import type { FrameView } from "../../../broker/src/protocol/messages";
import { toHex } from "../requests/request-file";

const decoder = new TextDecoder("utf-8", { fatal: true });

export function toFrameView(bytes: Uint8Array): FrameView {
  try {
    const text = decoder.decode(bytes);
    // Tabs and newlines are printable in a document; other control characters are not.
    // eslint-disable-next-line no-control-regex
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return { text };
  } catch {
    // not UTF-8
  }
  return { hex: toHex(bytes) };
}

export function fromFrameView(frame: FrameView): Uint8Array {
  if ("text" in frame) return new TextEncoder().encode(frame.text);
  const out = new Uint8Array(frame.hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(frame.hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
