/**
 * The `ztb.curve.*` settings (protocol/spec.md §Security) as what the extension does with them. Pure, unit-tested.
 *
 * The extension host never reads key files: it loads no zeromq, and the secret key has no business in its memory.
 * It passes paths; the monitor child reads them with broker/src/security (bridge/curve-keys.ts), and `ztb broker`
 * gets them as --curve-secret / --*-keys arguments (paths, not keys, so `ps` shows nothing secret).
 *
 * Rules:
 * - Attach and Send Request use CURVE when `extensionCertificate` and a broker public key are set. The broker's
 *   public key is `serverKey`, or when that is empty the public-key line of `brokerCertificate` (the same files a
 *   terminal-started broker would use).
 * - Start Broker turns CURVE on when `brokerCertificate` is set; the extension then talks to its own broker with
 *   `extensionCertificate` against `brokerCertificate`'s public key (`serverKey` is ignored: it may name another
 *   broker). An allow-list setting left empty becomes the extension's own certificate (the broker takes the public-key
 *   line of any certificate as a one-key list), so the extension can monitor, send to and run test workers on the
 *   broker it started; a list that is set is passed as is and must hold the extension's key for those to work.
 *   Without this default an empty list would refuse everyone, including the extension.
 */
import * as path from "node:path";
import { isZ85Key } from "../../../broker/src/security/z85";
import type { CurveFiles } from "../bridge/ipc";

export const CURVE_SETTINGS = {
  serverKey: "ztb.curve.serverKey",
  extensionCertificate: "ztb.curve.extensionCertificate",
  brokerCertificate: "ztb.curve.brokerCertificate",
  clientKeys: "ztb.curve.clientKeys",
  workerKeys: "ztb.curve.workerKeys",
  adminKeys: "ztb.curve.adminKeys",
} as const;

/** Setting values, paths already resolved (resolveSettingPath); "" = not set. */
export interface CurveSettings {
  serverKey: string;
  extensionCertificate: string;
  brokerCertificate: string;
  clientKeys: string;
  workerKeys: string;
  adminKeys: string;
}

/** A combination of settings that cannot work; the message is one line naming the settings. */
export class CurveSettingsError extends Error {
  override name = "CurveSettingsError";
}

export interface OwnBrokerCurve {
  /** Extra `ztb broker` arguments. */
  args: string[];
  /** What the extension's monitor, requests and test workers use against this broker. */
  files: CurveFiles;
}

/** Where the settings resolve paths: `~` is `home`; `${workspaceFolder}` and relative paths are the first folder. */
export interface PathContext {
  home: string;
  workspaceFolder: string | undefined;
}

/**
 * `~`, `~/x`, `${workspaceFolder}/x` and relative paths (against the first workspace folder) as absolute paths.
 * A Z85 key is returned as is (`serverKey` may be a key rather than a file).
 */
export function resolveSettingPath(value: string, where: PathContext): string {
  const text = value.trim();
  if (text === "" || isZ85Key(text)) return text;
  let resolved = text;
  if (where.workspaceFolder !== undefined) resolved = resolved.replace(/\$\{workspaceFolder\}/g, where.workspaceFolder);
  if (resolved === "~") return where.home;
  if (resolved.startsWith("~/") || resolved.startsWith("~\\")) resolved = path.join(where.home, resolved.slice(2));
  if (!path.isAbsolute(resolved) && where.workspaceFolder !== undefined) resolved = path.join(where.workspaceFolder, resolved);
  return resolved;
}

/** CURVE for Attach (someone else's broker); undefined = plain. */
export function attachCurve(c: CurveSettings): CurveFiles | undefined {
  const serverKey = c.serverKey !== "" ? c.serverKey : c.brokerCertificate;
  const serverKeySetting = c.serverKey !== "" ? CURVE_SETTINGS.serverKey : CURVE_SETTINGS.brokerCertificate;
  if (c.extensionCertificate === "" && serverKey === "") return undefined;
  if (c.extensionCertificate === "") {
    throw new CurveSettingsError(`${serverKeySetting} is set but ${CURVE_SETTINGS.extensionCertificate} is empty: CURVE needs the extension's own NAME.key_secret`);
  }
  if (serverKey === "") {
    throw new CurveSettingsError(`${CURVE_SETTINGS.extensionCertificate} is set but ${CURVE_SETTINGS.serverKey} is empty: CURVE needs the broker's public key`);
  }
  return { certificate: c.extensionCertificate, serverKey, serverKeySetting };
}

/** CURVE for Start Broker; undefined = the broker runs without CURVE. */
export function ownBrokerCurve(c: CurveSettings): OwnBrokerCurve | undefined {
  const lists = [
    ["--client-keys", c.clientKeys, CURVE_SETTINGS.clientKeys],
    ["--worker-keys", c.workerKeys, CURVE_SETTINGS.workerKeys],
    ["--admin-keys", c.adminKeys, CURVE_SETTINGS.adminKeys],
  ] as const;
  if (c.brokerCertificate === "") {
    // As `ztb broker` does for --*-keys without --curve-secret: a list alone would silently protect nothing.
    const stray = lists.find(([, value]) => value !== "");
    if (stray) throw new CurveSettingsError(`${stray[2]} needs ${CURVE_SETTINGS.brokerCertificate} (the broker's NAME.key_secret)`);
    return undefined;
  }
  if (c.extensionCertificate === "") {
    throw new CurveSettingsError(
      `${CURVE_SETTINGS.brokerCertificate} needs ${CURVE_SETTINGS.extensionCertificate}: the extension monitors its broker over CURVE`,
    );
  }
  const args = ["--curve-secret", c.brokerCertificate];
  for (const [option, value] of lists) args.push(option, value !== "" ? value : c.extensionCertificate);
  return {
    args,
    files: { certificate: c.extensionCertificate, serverKey: c.brokerCertificate, serverKeySetting: CURVE_SETTINGS.brokerCertificate },
  };
}
