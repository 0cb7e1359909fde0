/**
 * Reads the test vectors of protocol/examples at run time (they are never copied into test code) and turns their
 * frames into octets as protocol/schemas/vector.schema.json defines.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { MessageBounds } from "../../broker/src/protocol/limits";

/** The repository's protocol/ folder, from out/test/protocol/ where the compiled tests run. */
export const PROTOCOL_DIR = path.resolve(__dirname, "../../../protocol");
export const SCHEMAS_DIR = path.join(PROTOCOL_DIR, "schemas");

export type Endpoint = "clients" | "workers" | "answers" | "admin";
export type Direction = "to-broker" | "from-broker";
export type VectorFrame = { text: string } | { hex: string } | { json: unknown };

export interface Vector {
  /** e.g. "valid/workers-ready.json" */
  name: string;
  /** The parsed file, as written. */
  file: unknown;
  description: string;
  endpoint: Endpoint;
  direction: Direction;
  command: string;
  frames: VectorFrame[];
  error?: string;
  /** The receiver's whole-message bounds for an invalid vector (§Limits); absent: the defaults. */
  bounds?: MessageBounds;
}

export function frameOctets(frame: VectorFrame): Buffer {
  if ("text" in frame) return Buffer.from(frame.text, "utf8");
  if ("hex" in frame) return Buffer.from(frame.hex, "hex");
  return Buffer.from(JSON.stringify(frame.json), "utf8");
}

export function octets(vector: Vector): Buffer[] {
  return vector.frames.map(frameOctets);
}

export function loadVectors(kind: "valid" | "invalid"): Vector[] {
  const dir = path.join(PROTOCOL_DIR, "examples", kind);
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => {
      const file: unknown = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
      return { ...(file as Omit<Vector, "name" | "file">), name: `${kind}/${name}`, file };
    });
}

export function loadSchemas(): { file: string; schema: { $id?: string; $schema?: string } & Record<string, unknown> }[] {
  return fs
    .readdirSync(SCHEMAS_DIR)
    .filter((name) => name.endsWith(".schema.json"))
    .sort()
    .map((file) => ({ file, schema: JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, file), "utf8")) }));
}

/** Octets as one comparable, readable string: frames in hex joined by "|". */
export function hexOf(frames: readonly Uint8Array[]): string {
  return frames.map((frame) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("hex")).join("|");
}
