/**
 * `node out/test/vscode/check-vsix.js [FILE] [--target T]`: asserts a packaged `.vsix` is lean and complete —
 * the bundled extension, the ztb CLI with the protocol schemas it requires, zeromq with exactly the target's
 * prebuilds (including the Node 20 one that code-server's extension host loads) and the loader and ajv dependencies
 * it needs at run time; no tests, TypeScript sources, source maps or dev dependencies. Prints the content summary; exits 1 on any violation.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { listZip, readZipEntry } from "./zip-listing";
import { currentTarget, isVsixTarget, prebuildGlob, vsixFileName, type VsixTarget } from "../../extension/packaging/target";

const ROOT = path.resolve(__dirname, "..", "..", "..");
/**
 * Packages the CLI needs at run time (zeromq + its loader, ajv + its dependencies, and for `--data` better-sqlite3 +
 * its loader); nothing else may ship.
 */
const RUNTIME_PACKAGES = ["zeromq", "cmake-ts", "ajv", "fast-deep-equal", "fast-uri", "json-schema-traverse",
  "require-from-string", "better-sqlite3", "bindings", "file-uri-to-path"];
/** better-sqlite3's addon, built by npm on this machine: only in a package for this machine's target. */
const JOURNAL_ADDON = "node_modules/better-sqlite3/build/Release/better_sqlite3.node";
const MAX_BYTES = 15 * 1024 * 1024;

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}/`);
}

export function checkVsix(file: string, target: VsixTarget): string[] {
  const entries = listZip(file);
  const names = entries.map((e) => e.name);
  const content = names.filter((n) => n.startsWith("extension/")).map((n) => n.slice("extension/".length));
  const problems: string[] = [];
  const has = (name: string): boolean => content.includes(name);

  for (const required of ["package.json", "extension/dist/extension.js", "out/broker/src/cli/main.js",
    "node_modules/zeromq/package.json", "node_modules/zeromq/lib/index.js", "node_modules/zeromq/build/manifest.json",
    "node_modules/cmake-ts/build/loader.js", "node_modules/ajv/dist/ajv.js", "node_modules/fast-uri/index.js",
    "node_modules/fast-deep-equal/index.js", "node_modules/json-schema-traverse/index.js",
    "node_modules/require-from-string/index.js",
    // The live chart's webview script and the charting library it loads; the walkthrough's pages and the snippets.
    "extension/dist/chart.js", "extension/dist/uplot.iife.min.js", "extension/media/walkthrough/start-broker.md",
    "extension/media/snippets/ztb-request.code-snippets"]) {
    if (!has(required)) problems.push(`missing ${required}`);
  }
  // The Extensions page shows README.md; its links into the package (the request-file reference) must resolve there.
  if (!has("extension/README.md")) problems.push("missing extension/README.md (the request-file reference)");
  // vsce stores the package's README.md as readme.md.
  const readmeEntry = names.find((n) => n.toLowerCase() === "extension/readme.md");
  if (readmeEntry === undefined) problems.push("missing README.md");
  else {
    const readme = readZipEntry(file, readmeEntry).toString("utf8");
    for (const link of packagedLinks(readme)) if (!has(link)) problems.push(`README.md links to ${link}, which is not in the package`);
  }
  // The compiled codec requires the schemas it imports from out/protocol/schemas (tsc copies them there).
  for (const schema of fs.readdirSync(path.join(ROOT, "out", "protocol", "schemas"))) {
    if (!has(`out/protocol/schemas/${schema}`)) problems.push(`missing out/protocol/schemas/${schema}`);
  }

  const prebuild = globToRegExp(`node_modules/zeromq/build/${prebuildGlob(target)}`);
  const addons = content.filter((n) => n.endsWith(".node"));
  if (!addons.some((n) => prebuild.test(n))) problems.push(`no zeromq prebuild for ${target}`);
  if (target.startsWith("linux-") && !addons.some((n) => n.includes("/glibc-115-Release/"))) {
    problems.push("no zeromq prebuild for Node 20 (ABI 115), which code-server 4.100's extension host runs");
  }
  for (const addon of addons) {
    if (!prebuild.test(addon) && addon !== JOURNAL_ADDON) problems.push(`native file for another platform: ${addon}`);
  }
  // ztb broker --data (ztb.broker.dataDirectory) loads the journal: the package built here must carry it.
  if (target === currentTarget()) {
    for (const required of [JOURNAL_ADDON, "node_modules/better-sqlite3/lib/index.js", "node_modules/bindings/bindings.js",
      "node_modules/file-uri-to-path/index.js"]) {
      if (!has(required)) problems.push(`missing ${required} (ztb broker --data)`);
    }
  } else if (has(JOURNAL_ADDON)) {
    problems.push(`${JOURNAL_ADDON} was built for ${currentTarget()}, not ${target}`);
  }

  for (const name of content) {
    const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(name)?.[1];
    if (pkg !== undefined && !RUNTIME_PACKAGES.includes(pkg)) problems.push(`not a runtime dependency: ${name}`);
    if (/\.(ts|mts|cts|map|cc|cpp|h)$/.test(name) && !name.endsWith(".d.ts")) problems.push(`source or map: ${name}`);
    if (name.endsWith(".d.ts")) problems.push(`type declarations: ${name}`);
    if (/(^|\/)(test|tests|spec|__tests__)\//.test(name) || name.startsWith("out/test/")) problems.push(`test file: ${name}`);
    if (/^(broker|extension\/src|test|\.ci|\.vscode)\//.test(name)) problems.push(`repository source: ${name}`);
  }

  const manifest = readZipEntry(file, "extension.vsixmanifest").toString("utf8");
  if (!manifest.includes(`TargetPlatform="${target}"`)) problems.push(`vsixmanifest is not for ${target}`);
  const size = fs.statSync(file).size;
  if (size > MAX_BYTES) problems.push(`${size} bytes is over the ${MAX_BYTES} byte budget`);

  const byTop = new Map<string, number>();
  for (const name of content) {
    const top = name.split("/").slice(0, name.startsWith("node_modules/") ? 2 : 1).join("/");
    byTop.set(top, (byTop.get(top) ?? 0) + 1);
  }
  console.log(`${path.basename(file)}: ${(size / 1024 / 1024).toFixed(1)} MiB, ${content.length} files`);
  for (const [top, count] of [...byTop].sort()) console.log(`  ${String(count).padStart(4)}  ${top}`);
  for (const addon of addons) console.log(`  native: ${addon}`);
  return problems;
}

/** Relative links of a README that point into the extension's own files (extension/…), as package paths. */
export function packagedLinks(markdown: string): string[] {
  const links = [...markdown.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] ?? "");
  return links.filter((l) => !/^[a-z]+:/i.test(l)).map((l) => path.posix.normalize(l)).filter((l) => l.startsWith("extension/"));
}

function main(): number {
  const args = process.argv.slice(2);
  const targetIndex = args.indexOf("--target");
  const targetArg = targetIndex >= 0 ? args.splice(targetIndex, 2)[1] : undefined;
  if (targetArg !== undefined && !isVsixTarget(targetArg)) throw new Error(`unsupported target ${targetArg}`);
  const target = targetArg ?? currentTarget();
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
  const file = path.resolve(args[0] ?? path.join(ROOT, vsixFileName(manifest, target)));
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: run npm run package first`);
  const problems = checkVsix(file, target);
  for (const problem of problems) console.log(`  ✘ ${problem}`);
  console.log(problems.length === 0 ? "vsix check: 1 passed, 0 failed" : `vsix check: 0 passed, 1 failed`);
  return problems.length === 0 ? 0 : 1;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
