/**
 * Where the `nats-server` binary is. Debian installs it in /usr/sbin, which is not on every user's PATH, so that
 * directory is tried after PATH. A missing binary fails the suite (never skips it): a skipped cluster test reads as a
 * pass.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The one line printed when the binary is missing. */
export const INSTALL_HINT = "nats-server not found (tried $ZTB_NATS_SERVER, PATH, /usr/sbin): apt-get install nats-server";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of `nats-server`: `$ZTB_NATS_SERVER` when set, else the first one on PATH, else Debian's /usr/sbin. */
export function natsServerPath(): string {
  const chosen = process.env.ZTB_NATS_SERVER;
  if (chosen !== undefined && chosen !== "") {
    if (executable(chosen)) return chosen;
    throw new Error(`ZTB_NATS_SERVER=${chosen} is not an executable file; ${INSTALL_HINT}`);
  }
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  for (const dir of [...dirs, "/usr/sbin", "/usr/local/sbin"]) {
    const candidate = join(dir, "nats-server");
    if (executable(candidate)) return candidate;
  }
  throw new Error(INSTALL_HINT);
}
