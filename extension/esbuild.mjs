// Bundles the extension host entry and the ZeroMQ monitor child. `zeromq` stays external: its native prebuilds are
// loaded from node_modules at run time (and only ever in the child process); `vscode` is provided by the host.
import { build } from "esbuild";
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

await Promise.all(
  entries.map((e) =>
    build({ ...common, entryPoints: [path.join(here, e.in)], outfile: path.join(here, e.out) }),
  ),
);
if (watch) console.error("--watch is not supported; run again after editing.");
