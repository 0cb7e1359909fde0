/**
 * Lists the entries of a zip file (a `.vsix` is one) from its central directory, so the check needs no unzip tool.
 * Handles what vsce writes: a single-disk archive, no zip64, an optional archive comment.
 */
import * as fs from "node:fs";
import * as zlib from "node:zlib";

export interface ZipEntry {
  name: string;
  size: number;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;

export function listZip(file: string): ZipEntry[] {
  return centralDirectory(fs.readFileSync(file), file);
}

/** The uncompressed bytes of one entry. */
export function readZipEntry(file: string, name: string): Buffer {
  const data = fs.readFileSync(file);
  const entry = centralDirectory(data, file).find((e) => e.name === name);
  if (!entry) throw new Error(`${file}: no entry ${name}`);
  const start = entry.localHeaderOffset + 30 + data.readUInt16LE(entry.localHeaderOffset + 26) +
    data.readUInt16LE(entry.localHeaderOffset + 28);
  const raw = data.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return Buffer.from(raw);
  if (entry.method === 8) return zlib.inflateRawSync(raw);
  throw new Error(`${file}: ${name} uses compression method ${entry.method}`);
}

function centralDirectory(data: Buffer, file: string): ZipEntry[] {
  // The end-of-central-directory record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 65535); i--) {
    if (data.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip file (no end of central directory)`);
  const count = data.readUInt16LE(eocd + 10);
  let offset = data.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (data.readUInt32LE(offset) !== CENTRAL_SIGNATURE) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = data.readUInt16LE(offset + 10);
    const compressedSize = data.readUInt32LE(offset + 20);
    const size = data.readUInt32LE(offset + 24);
    const localHeaderOffset = data.readUInt32LE(offset + 42);
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    entries.push({ name: data.toString("utf8", offset + 46, offset + 46 + nameLength), size, method, compressedSize,
      localHeaderOffset });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
