/**
 * Which VS Code platform target a `.vsix` is built for, and which zeromq prebuilds it must carry.
 *
 * zeromq 6 loads its addon through cmake-ts's loader, which reads `build/manifest.json` and picks
 * `build/<os>/<arch>/node/<libc>-<abi>-Release/addon.node` for the running os/arch/libc (newest ABI first). A
 * per-platform package therefore keeps the manifest and only its own platform's `<libc>-*-Release` folders.
 */
import * as fs from "node:fs";

export type VsixTarget =
  | "linux-x64" | "linux-arm64" | "alpine-x64" | "alpine-arm64"
  | "darwin-x64" | "darwin-arm64" | "win32-x64" | "win32-arm64";

/** The zeromq prebuild folders (glob relative to node_modules/zeromq/build) a target needs. */
export function prebuildGlob(target: VsixTarget): string {
  const [platform, arch] = target.split("-") as [string, string];
  switch (platform) {
    case "linux":
      return `linux/${arch}/node/glibc-*-Release`;
    case "alpine":
      return `linux/${arch}/node/musl-*-Release`;
    case "darwin":
      return `darwin/${arch}/node/libc-*-Release`;
    default:
      return `win32/${arch}/node/msvc-*-Release`;
  }
}

/** The target of the machine we run on. */
export function currentTarget(): VsixTarget {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  if (process.platform === "win32") return `win32-${arch}`;
  if (process.platform === "darwin") return `darwin-${arch}`;
  return fs.existsSync("/etc/alpine-release") ? `alpine-${arch}` : `linux-${arch}`;
}

export function isVsixTarget(value: string): value is VsixTarget {
  return /^(linux|alpine|darwin|win32)-(x64|arm64)$/.test(value);
}

/** `<name>-<target>-<version>.vsix`, vsce's own naming for a targeted package. */
export function vsixFileName(manifest: { name: string; version: string }, target: VsixTarget): string {
  return `${manifest.name}-${target}-${manifest.version}.vsix`;
}
