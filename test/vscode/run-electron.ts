/**
 * `npm run test:vscode`: the integration suite (suite/index.ts, the same one run-web.ts runs) in desktop VS Code via
 * @vscode/test-electron. It downloads VS Code 1.100.3 into .vscode-test/, so it needs internet; on machines without
 * it use `npm run test:vscode:web` (code-server in headless Chromium).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runTests } from "@vscode/test-electron";
import { makeWorkspace } from "./web/workspace";
import { RESULTS_ENV, type SuiteResults } from "./suite/ids";

const REPO = path.resolve(__dirname, "..", "..", "..");

async function main(): Promise<number> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-vscode-electron-"));
  const workspace = await makeWorkspace(path.join(tmp, "workspace"));
  const resultsFile = path.join(tmp, "results.json");
  let exitCode: number;
  try {
    exitCode = await runTests({
      version: "1.100.3",
      extensionDevelopmentPath: REPO,
      extensionTestsPath: path.join(REPO, "out", "test", "vscode", "suite", "index.js"),
      extensionTestsEnv: { [RESULTS_ENV]: resultsFile },
      launchArgs: [workspace, "--disable-extensions", "--disable-workspace-trust", "--user-data-dir", path.join(tmp, "user")],
    });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    exitCode = 1;
  }
  if (fs.existsSync(resultsFile)) {
    const results = JSON.parse(fs.readFileSync(resultsFile, "utf8")) as SuiteResults;
    console.log(`${results.passes.length} passed, ${results.failures.length + (results.error ? 1 : 0)} failed`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  return exitCode;
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
