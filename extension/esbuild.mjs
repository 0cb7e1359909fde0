// Bundles the extension host entry and the ZeroMQ monitor child. `zeromq` stays external: its native prebuilds are
// loaded from node_modules at run time (and only ever in the child process); `vscode` is provided by the host.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes("--watch");

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: true,
  external: ["vscode", "zeromq"],
  logLevel: "warning", // quiet inside `npm run demo` and `npm test`; errors and warnings still show
};

const entries = [
  { in: "src/extension.ts", out: "dist/extension.js" },
  { in: "src/bridge/monitor-child.ts", out: "dist/monitor-child.js" },
];

// The live chart's webview: a browser script, with uPlot (loaded beside it as its own file) and uPlot's CSS as a string.
const uplotDist = path.dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"));
mkdirSync(path.join(here, "dist"), { recursive: true });
copyFileSync(path.join(uplotDist, "uPlot.iife.min.js"), path.join(here, "dist", "uplot.iife.min.js"));
const webview = build({
  ...common,
  platform: "browser",
  format: "iife",
  target: "chrome120",
  external: [],
  define: { __UPLOT_CSS__: JSON.stringify(readFileSync(path.join(uplotDist, "uPlot.min.css"), "utf8")) },
  entryPoints: [path.join(here, "src/chart/webview/main.ts")],
  outfile: path.join(here, "dist/chart.js"),
});

await Promise.all([
  webview,
  ...entries.map((e) => build({ ...common, entryPoints: [path.join(here, e.in)], outfile: path.join(here, e.out) })),
]);
if (watch) console.error("--watch is not supported; run again after editing.");
