/**
 * Bytes shown to a person (protocol/spec.md §Admin, FrameView): the codec's rule, the same one the broker applies to
 * previews and INSPECT frames, so a frame looks the same wherever it is shown and `fromFrameView` gives its bytes back
 * (a leading BOM stays in the text; C1 controls such as U+0085 make it hex). The codec's module is pure TypeScript:
 * no native module reaches the extension host.
 */
import { frameView } from "../../../broker/src/codec/frame-view";
import type { FrameView } from "../../../broker/src/protocol/messages";

export function toFrameView(bytes: Uint8Array): FrameView {
  return frameView(bytes);
}

export function fromFrameView(frame: FrameView): Uint8Array {
  if ("text" in frame) return new TextEncoder().encode(frame.text);
  const out = new Uint8Array(frame.hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(frame.hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
