/**
 * Entry point of the integration suite (`extensionTestsPath`), shared by both runners: @vscode/test-electron
 * (run-electron.ts) and code-server in headless Chromium (run-web.ts). VS Code calls `run()` inside the extension host
 * — for the web runner that is code-server's remote (Node) extension host, so the browser never sees mocha.
 *
 * Results go to a JSON file as well as to the rejection: in the web runner the extension host's console is not the
 * runner's, so the file is how failures and their messages get back to the terminal.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Mocha from "mocha";
import * as vscode from "vscode";
import { RESULTS_ENV, RESULTS_FALLBACK_NAME, type SuiteResults } from "./ids";

function resultsPath(): string | undefined {
  const fromEnv = process.env[RESULTS_ENV];
  if (fromEnv) return fromEnv;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, RESULTS_FALLBACK_NAME) : undefined;
}

function writeResults(results: SuiteResults): void {
  const file = resultsPath();
  if (!file) return;
  // Write then rename, so the runner polling for the file never reads half of it.
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(results, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

export async function run(): Promise<void> {
  const results: SuiteResults = { passes: [], failures: [] };
  // bail: the steps share one broker, so after a failed step the rest would only report its consequences.
  const mocha = new Mocha({ ui: "bdd", timeout: 60_000, color: false, reporter: "spec", bail: true });
  for (const name of fs.readdirSync(__dirname).sort()) {
    if (name.endsWith(".test.js")) mocha.addFile(path.join(__dirname, name));
  }
  try {
    await new Promise<void>((resolve) => {
      const runner = mocha.run(() => resolve());
      runner.on("pass", (test) => results.passes.push({ title: test.fullTitle(), durationMs: test.duration ?? 0 }));
      runner.on("fail", (test, err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        results.failures.push({ title: test.fullTitle(), message: error.message, stack: error.stack });
      });
    });
  } catch (err) {
    results.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  }
  writeResults(results);
  if (results.error) throw new Error(results.error);
  if (results.failures.length > 0) throw new Error(`${results.failures.length} integration test(s) failed`);
}
