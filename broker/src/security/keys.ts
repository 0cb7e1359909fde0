/**
 * CURVE keys on disk (protocol/spec.md §Security).
 *
 * Key pairs are ZeroMQ certificates in the ZPL text format that czmq's `zcert` and pyzmq's `zmq.auth` write and read,
 * so keys made by `ztb keygen` work with those tools and the other way round:
 *   `NAME.key`         the public certificate — give it to the broker's allow-lists / to peers (mode 0644)
 *   `NAME.key_secret`  the secret certificate — public and secret key; keep it private (mode 0600)
 * Each holds a `curve` section with `public-key = "<Z85>"` (and `secret-key = "<Z85>"` in the secret one).
 *
 * Allow-lists (`--client-keys`, `--worker-keys`, `--admin-keys`) are a file or a directory:
 * - a file is either a public certificate (one key), or a list with one Z85 public key per line, optionally followed
 *   by whitespace and a `# comment` naming its owner; blank lines and lines starting with `#` are ignored. Z85 itself
 *   uses `#`, so a line is a key when its first word is a valid 40-character Z85 key, and a comment otherwise.
 * - a directory contributes every `*.key` file in it (not hidden files, not subdirectories, never `*.key_secret`),
 *   like czmq's certificate store.
 * Every error is one line naming the file and, for lists, the line: `/x: line 3 is not a Z85 public key`.
 */
import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { curveKeyPair } from "zeromq";
import { isZ85Key, z85Decode, z85Encode } from "./z85";

export interface CurveKeyPair {
  /** Z85, 40 characters. */
  readonly publicKey: string;
  /** Z85, 40 characters. */
  readonly secretKey: string;
}

/** Allowed public keys (Z85) mapped to a label saying where each came from (owner comment, or file and line). */
export type AllowList = ReadonlyMap<string, string>;

/** A key file or allow-list that cannot be used; the message is one line, starting with the path. */
export class KeyFileError extends Error {
  constructor(
    readonly path: string,
    detail: string,
    readonly line?: number,
  ) {
    super(`${path}: ${line === undefined ? "" : `line ${line} `}${detail}`);
    this.name = "KeyFileError";
  }
}

/** writeKeyPair without `force` found a file in the way. */
export class KeyFileExistsError extends KeyFileError {
  constructor(path: string) {
    super(path, "already exists (use --force to overwrite)");
    this.name = "KeyFileExistsError";
  }
}

export const PUBLIC_SUFFIX = ".key";
export const SECRET_SUFFIX = ".key_secret";

export function generateKeyPair(): CurveKeyPair {
  return curveKeyPair();
}

/**
 * The public key of a Z85 secret key. CURVE keys are Curve25519 (X25519) keys, so node:crypto derives it; this lets
 * a loaded certificate be checked for a public key that does not belong to its secret key.
 */
export function publicKeyOf(secretKey: string): string {
  const secret = z85Decode(secretKey);
  if (secret === undefined || secret.length !== 32) throw new RangeError("not a Z85 secret key");
  // PKCS#8 wrapping of a raw X25519 private key (RFC 8410): fixed 16-octet prefix, then the 32 key octets.
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), secret]);
  const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })).export({
    format: "der",
    type: "spki",
  });
  return z85Encode(spki.subarray(spki.length - 32));
}

function certificate(pair: { publicKey: string; secretKey?: string }, now: Date): string {
  const kind = pair.secretKey === undefined ? "" : "**Secret** ";
  const lines = [
    `#   ****  Generated on ${now.toISOString()} by ztb keygen  ****`,
    `#   ZeroMQ CURVE ${kind}Certificate`,
    pair.secretKey === undefined
      ? "#   Exchange securely, or use a secure mechanism to verify the contents of this file after exchange."
      : "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
    "",
    "metadata",
    "curve",
    `    public-key = "${pair.publicKey}"`,
  ];
  if (pair.secretKey !== undefined) lines.push(`    secret-key = "${pair.secretKey}"`);
  return lines.join("\n") + "\n";
}

export function formatPublicCertificate(publicKey: string, now = new Date()): string {
  return certificate({ publicKey }, now);
}

export function formatSecretCertificate(pair: CurveKeyPair, now = new Date()): string {
  return certificate(pair, now);
}

const CERT_LINE = /^\s*(public-key|secret-key)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))\s*$/;

/** The `public-key` / `secret-key` values of a certificate, or undefined when the text has no such line. */
function certificateKeys(text: string, file: string): { publicKey?: string; secretKey?: string } | undefined {
  let found = false;
  const keys: { publicKey?: string; secretKey?: string } = {};
  text.split("\n").forEach((raw, index) => {
    const match = CERT_LINE.exec(raw);
    if (match === null) return;
    found = true;
    const value = match[2] ?? match[3] ?? match[4] ?? "";
    const name = match[1] === "public-key" ? "public" : "secret";
    if (!isZ85Key(value)) throw new KeyFileError(file, `is not a Z85 ${name} key`, index + 1);
    if (name === "public") keys.publicKey = value;
    else keys.secretKey = value;
  });
  return found ? keys : undefined;
}

/** Parses allow-list text (a certificate or a key list, see the file comment); `file` is used in labels and errors. */
export function parseAllowList(text: string, file: string): Map<string, string> {
  const keys = new Map<string, string>();
  const base = path.basename(file);
  const cert = certificateKeys(text, file);
  if (cert !== undefined) {
    if (cert.publicKey === undefined) throw new KeyFileError(file, "is a certificate without a public-key line");
    keys.set(cert.publicKey, base);
    return keys;
  }
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "") return;
    const word = /^\S+/.exec(line)?.[0] ?? "";
    const rest = line.slice(word.length).trim();
    if (isZ85Key(word) && (rest === "" || rest.startsWith("#"))) {
      const owner = rest.replace(/^#+/, "").trim();
      if (!keys.has(word)) keys.set(word, owner === "" ? `${base}:${index + 1}` : owner);
      return;
    }
    if (line.startsWith("#")) return;
    throw new KeyFileError(file, "is not a Z85 public key", index + 1);
  });
  return keys;
}

async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    throw new KeyFileError(file, describeFsError(error));
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory, expected a file";
    default:
      return `cannot read (${code ?? String(error)})`;
  }
}

/** Loads an allow-list from a file or a directory of `*.key` files (see the file comment). */
export async function loadAllowList(source: string): Promise<AllowList> {
  let stat;
  try {
    stat = await fs.stat(source);
  } catch (error) {
    throw new KeyFileError(source, describeFsError(error));
  }
  if (!stat.isDirectory()) return parseAllowList(await readText(source), source);
  let names: string[];
  try {
    names = await fs.readdir(source);
  } catch (error) {
    throw new KeyFileError(source, describeFsError(error));
  }
  const keys = new Map<string, string>();
  for (const name of names.filter((n) => n.endsWith(PUBLIC_SUFFIX) && !n.startsWith(".")).sort()) {
    const file = path.join(source, name);
    if (!(await fs.stat(file)).isFile()) continue;
    for (const [key, label] of parseAllowList(await readText(file), file)) if (!keys.has(key)) keys.set(key, label);
  }
  return keys;
}

/**
 * Loads a key pair from a secret certificate (`NAME.key_secret`). A certificate whose public key does not belong to
 * its secret key is refused; a missing `public-key` line is derived from the secret key.
 */
export async function loadKeyPair(file: string): Promise<CurveKeyPair> {
  const cert = certificateKeys(await readText(file), file);
  if (cert?.secretKey === undefined) {
    throw new KeyFileError(file, "has no secret-key line (expected a NAME.key_secret written by ztb keygen)");
  }
  const derived = publicKeyOf(cert.secretKey);
  if (cert.publicKey !== undefined && cert.publicKey !== derived) {
    throw new KeyFileError(file, "public-key does not belong to secret-key");
  }
  return { publicKey: derived, secretKey: cert.secretKey };
}

/**
 * Resolves `--server-key`: a file holding exactly one public key (a certificate or a one-key list), or the Z85 key
 * itself. An existing file wins over a Z85 reading of the same text (paths can be valid Z85).
 */
export async function loadPublicKey(fileOrKey: string): Promise<string> {
  const isFile = await fs.stat(fileOrKey).then(
    () => true,
    () => false,
  );
  if (!isFile) {
    if (isZ85Key(fileOrKey)) return fileOrKey;
    throw new KeyFileError(fileOrKey, "is neither a file nor a Z85 public key");
  }
  const keys = await loadAllowList(fileOrKey);
  const [first, ...more] = keys.keys();
  if (first === undefined || more.length > 0) {
    throw new KeyFileError(fileOrKey, `holds ${keys.size} public keys, expected exactly one`);
  }
  return first;
}

export interface WrittenKeyPair {
  publicFile: string;
  secretFile: string;
}

/**
 * Writes `PREFIX.key` (0644) and `PREFIX.key_secret` (0600). Without `force` an existing file is an error and nothing
 * is written; with it both are replaced. A symbolic link at either path is refused, with or without `force`: writing
 * through it would put the secret wherever the link points (see writeFileWithMode).
 */
export async function writeKeyPair(prefix: string, pair: CurveKeyPair, force: boolean): Promise<WrittenKeyPair> {
  const written = { publicFile: prefix + PUBLIC_SUFFIX, secretFile: prefix + SECRET_SUFFIX };
  if (!force) {
    for (const file of [written.publicFile, written.secretFile]) {
      const exists = await fs.lstat(file).then(
        () => true,
        () => false,
      );
      if (exists) throw new KeyFileExistsError(file);
    }
  }
  const now = new Date();
  await writeFileWithMode(written.secretFile, formatSecretCertificate(pair, now), 0o600, force);
  await writeFileWithMode(written.publicFile, formatPublicCertificate(pair.publicKey, now), 0o644, force);
  return written;
}

/**
 * Writes `text` to `file` with `mode` from the first byte on, never through a symbolic link: the text goes into a new
 * file beside the target, created with O_EXCL (so nothing already there, link or file, is opened) and `mode`, then
 * takes the target's name in one step — rename (which replaces a link itself, never its target) with `force`, link
 * (which fails if the name exists) without. A symbolic link at `file` is refused outright, so a planted link is
 * reported rather than silently replaced.
 */
async function writeFileWithMode(file: string, text: string, mode: number, force: boolean): Promise<void> {
  const existing = await fs.lstat(file).catch(() => undefined);
  if (existing?.isSymbolicLink() === true) throw new KeyFileError(file, "is a symbolic link; refusing to write a key through it");
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  let handle;
  try {
    handle = await fs.open(temporary, "wx", mode);
  } catch (error) {
    throw new KeyFileError(file, describeFsError(error));
  }
  try {
    try {
      await handle.chmod(mode); // the umask may have narrowed `mode` at creation; never widened it
      await handle.writeFile(text, "utf8");
    } finally {
      await handle.close();
    }
    if (force) await fs.rename(temporary, file);
    else await fs.link(temporary, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === "EEXIST" ? new KeyFileExistsError(file) : new KeyFileError(file, describeFsError(error));
  } finally {
    await fs.rm(temporary, { force: true });
  }
}

/**
 * A one-line warning when a secret certificate can be read by its group or by others (mode bits 0o044), undefined
 * when it is private or cannot be examined (loading it reports that).
 */
export async function secretFileExposure(file: string): Promise<string | undefined> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (stat === undefined || (stat.mode & 0o044) === 0) return undefined;
  const who = (stat.mode & 0o004) !== 0 ? "every user" : "its group";
  const octal = (stat.mode & 0o777).toString(8).padStart(4, "0");
  return `${file} holds the broker's secret key and is readable by ${who} (mode ${octal}); chmod 600 it`;
}
