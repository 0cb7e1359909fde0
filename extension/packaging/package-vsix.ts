/**
 * `npm run package [-- --target T]`: the per-platform `.vsix` (as vscode-jupyter ships zeromq). The root
 * `.vscodeignore` is written for linux-x64; for another target this writes a copy whose zeromq prebuild line names
 * that target's folders, and hands it to `vsce package --ignoreFile`. Run after `npm run build`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { currentTarget, isVsixTarget, prebuildGlob, vsixFileName, type VsixTarget } from "./target";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const PREBUILD_LINE = /^!node_modules\/zeromq\/build\/.*-Release\/\*\*$/m;
/** The journal's native module exists only as built here; another target's package goes without it (no --data). */
const JOURNAL_LINES = /^!node_modules\/(better-sqlite3|bindings|file-uri-to-path)\/.*$/gm;

function targetFromArgs(argv: string[]): VsixTarget {
  const index = argv.indexOf("--target");
  const value = index >= 0 ? argv[index + 1] : undefined;
  if (value === undefined) return currentTarget();
  if (!isVsixTarget(value)) throw new Error(`unsupported target ${value}`);
  return value;
}

function main(): void {
  const target = targetFromArgs(process.argv.slice(2));
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
  for (const required of ["extension/dist/extension.js", "out/broker/src/cli/main.js"]) {
    if (!fs.existsSync(path.join(ROOT, required))) throw new Error(`${required} is missing: run npm run build first`);
  }
  const ignore = fs.readFileSync(path.join(ROOT, ".vscodeignore"), "utf8");
  if (!PREBUILD_LINE.test(ignore)) throw new Error(".vscodeignore has no zeromq prebuild line to retarget");
  const ignoreFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ztb-vsix-")), ".vscodeignore");
  let retargeted = ignore.replace(PREBUILD_LINE, `!node_modules/zeromq/build/${prebuildGlob(target)}/**`);
  if (target !== currentTarget()) {
    retargeted = retargeted.replace(JOURNAL_LINES, "");
    console.log(`${target}: without better-sqlite3 (built for ${currentTarget()} only): Start Broker cannot use ztb.broker.dataDirectory`);
  }
  fs.writeFileSync(ignoreFile, retargeted);

  const out = path.join(ROOT, vsixFileName(manifest, target));
  const vsce = path.join(ROOT, "node_modules", "@vscode", "vsce", "vsce");
  const result = spawnSync(process.execPath, [vsce, "package", "--target", target, "--ignoreFile", ignoreFile,
    "--out", out, "--skip-license", "--allow-missing-repository", "--no-rewrite-relative-links"], { cwd: ROOT, stdio: "inherit" });
  fs.rmSync(path.dirname(ignoreFile), { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`vsce package failed (exit ${String(result.status)})`);
  console.log(out);
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
