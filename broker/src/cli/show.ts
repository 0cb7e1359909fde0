/** How frames and statuses look on a terminal. */
import { frameView } from "../codec/frame-view";

/** The codec's FrameView rule (protocol/spec.md §Admin): printable UTF-8 as text, anything else as `0x` and hex. */
export function showFrame(frame: Uint8Array): string {
  const view = frameView(frame);
  return "text" in view ? view.text : "0x" + view.hex;
}

/** A one-line preview of a payload: frames shown and joined by " | ", cut at `max` characters. */
export function preview(frames: readonly Uint8Array[], max = 60): string {
  const text = frames.map((frame) => showFrame(frame).replace(/[\r\n]+/g, " ")).join(" | ");
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

export type Colour = "red" | "green" | "yellow" | "blue" | "magenta" | "cyan" | "grey" | "bold";

const CODES: Record<Colour, number> = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, grey: 90, bold: 1 };

/** ANSI colours on a terminal unless NO_COLOR is set; FORCE_COLOR turns them on anywhere. */
export function colourEnabled(stream: { isTTY?: boolean }): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

export function paint(enabled: boolean, colour: Colour, text: string): string {
  return enabled ? `\x1b[${CODES[colour]}m${text}\x1b[0m` : text;
}
