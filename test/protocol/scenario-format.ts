/**
 * The scenario transcripts' format (protocol/schemas/scenario.schema.json) as types, and the frame helpers every replay
 * of them uses: against the core with a fake clock (test/core/scenarios.test.ts) and over real sockets through a
 * cluster (test/cluster/cluster-scenarios.test.ts).
 */
import type { Frame } from "../../broker/src/protocol/messages";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type Matcher =
  | { text: string }
  | { hex: string }
  | { json: JsonValue }
  | { ref: string }
  | { capture: string }
  | { jsonMatch: { [key: string]: JsonValue } };
export type Step =
  | { at: number; peer: string; send: Matcher[] }
  | { at: number; peer: string; disconnect: true }
  | { at: number; expect: { peer: string; frames: Matcher[] }[] };
export interface Scenario {
  description: string;
  broker: { tries: number | null; timeout: number | null; heartbeat: number; maxQueue: number | null; services?: string[]; deadline?: number | null };
  heartbeats?: boolean;
  steps: Step[];
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** A frame for a failure message: its text in quotes when it is UTF-8, else 0x and hex. */
export function show(frame: Frame): string {
  try {
    return JSON.stringify(strict.decode(frame));
  } catch {
    return "0x" + Buffer.from(frame).toString("hex");
  }
}

export function sameBytes(a: Frame, b: Frame): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function parseJson(frame: Frame): JsonValue | undefined {
  try {
    return JSON.parse(strict.decode(frame)) as JsonValue;
  } catch {
    return undefined;
  }
}

/** True when `actual` has every member of `wanted` (recursively for objects; arrays and scalars compare whole). */
export function includes(actual: JsonValue | undefined, wanted: JsonValue): boolean {
  if (wanted !== null && typeof wanted === "object" && !Array.isArray(wanted)) {
    if (actual === null || actual === undefined || typeof actual !== "object" || Array.isArray(actual)) return false;
    return Object.entries(wanted).every(([k, v]) => includes(actual[k], v));
  }
  return JSON.stringify(actual) === JSON.stringify(wanted);
}
