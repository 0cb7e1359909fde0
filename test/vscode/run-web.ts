/**
 * `npm run test:vscode:web`: the integration suite in a real VS Code (code-server 4.100.3 = VS Code 1.100.3) driven
 * by headless Chromium, offline. Then the three user journeys through the UI itself, with screenshots in
 * test/vscode/screenshots/.
 *
 * Phase 1 loads the workbench with `extensionDevelopmentPath` + `extensionTestsPath` (the `payload` URL parameter,
 * as microsoft/vscode's browser integration tests do); suite/index.ts runs mocha in the remote extension host and
 * writes a results file, which this runner waits for. That extension host exits when the suite ends, so phase 2 opens
 * a fresh window on a second workspace (its own broker ports) with only `extensionDevelopmentPath`.
 *
 * Options: `--vsix [FILE]` (default: the package `npm run package` builds here) installs FILE with `--install-extension` and runs everything against the installed copy
 * (the development path is then an empty folder); `--no-ui` skips phase 2.
 * Always stops Chromium and code-server (its whole process group) at the end. Exit code 0 only if all passed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CodeServer, ensureCodeServer, freePort, installExtension, listExtensions } from "./web/code-server";
import { loadChromium, type Browser } from "./web/playwright";
import { makeWorkspace, writeUserSettings } from "./web/workspace";
import { runUiJourneys, type JourneyResult } from "./web/ui-journeys";
import { EXTENSION_ID, INSTALLED_IN_ENV, RESULTS_ENV, type SuiteResults } from "./suite/ids";
import { currentTarget, vsixFileName } from "../../extension/packaging/target";

const REPO = path.resolve(__dirname, "..", "..", "..");
const TESTS_INDEX = path.join(REPO, "out", "test", "vscode", "suite", "index.js");
const SCREENSHOTS = path.join(REPO, "test", "vscode", "screenshots");
const SUITE_TIMEOUT_MS = 240_000;
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"];

interface Options {
  vsix?: string;
  ui: boolean;
}

/** The package `npm run package` builds for this machine. */
function defaultVsix(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { name: string; version: string };
  return path.join(REPO, vsixFileName(manifest, currentTarget()));
}

function parseArgs(argv: string[]): Options {
  const options: Options = { ui: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--no-ui") options.ui = false;
    else if (arg === "--vsix") {
      const next = argv[i + 1];
      options.vsix = next !== undefined && !next.startsWith("--") ? path.resolve(argv[++i] ?? "") : defaultVsix();
    }
    else throw new Error(`unknown argument ${String(arg)} (use --vsix FILE, --no-ui)`);
  }
  return options;
}

/** The workbench URL that loads `developmentPath` (and the suite, when `testsIndex` is given) in the remote host. */
export function workbenchUrl(port: number, folder: string, developmentPath: string, testsIndex?: string): string {
  const remote = (p: string): string => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload: [string, string][] = [["extensionDevelopmentPath", remote(developmentPath)]];
  if (testsIndex) payload.push(["extensionTestsPath", remote(testsIndex)]);
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

async function waitForResults(file: string, exited: Promise<number>, timeoutMs: number): Promise<SuiteResults> {
  let exitCode: number | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  let exitSeenAt: number | undefined;
  while (Date.now() < deadline) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as SuiteResults;
    if (exitCode !== undefined) {
      // The workbench reported the extension host's exit: the file is written before that, allow a little skew.
      exitSeenAt ??= Date.now();
      if (Date.now() - exitSeenAt > 3_000) {
        return { passes: [], failures: [], error: `the test extension host exited (${exitCode}) without writing results` };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { passes: [], failures: [], error: `no results after ${timeoutMs / 1000} s (timeout)` };
}

function printSuite(results: SuiteResults): void {
  console.log("\nIntegration suite (remote extension host):");
  for (const pass of results.passes) console.log(`  ✔ ${pass.title} (${pass.durationMs} ms)`);
  for (const failure of results.failures) {
    console.log(`  ✘ ${failure.title}\n      ${failure.message.split("\n").join("\n      ")}`);
  }
  if (results.error) console.log(`  ✘ suite error: ${results.error}`);
}

function printJourneys(journeys: JourneyResult[]): void {
  console.log("\nUI journeys (playwright):");
  for (const j of journeys) {
    console.log(`  ${j.error ? "✘" : "✔"} ${j.title}${j.screenshot ? ` → ${path.relative(REPO, j.screenshot)}` : ""}`);
    if (j.error) console.log(`      ${j.error.split("\n").join("\n      ")}`);
  }
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(TESTS_INDEX)) throw new Error(`${TESTS_INDEX} is missing: run the build first`);
  const cache = ensureCodeServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-vscode-web-"));
  const dirs = { userDataDir: path.join(tmp, "user-data"), extensionsDir: path.join(tmp, "extensions") };
  fs.mkdirSync(dirs.extensionsDir, { recursive: true });
  writeUserSettings(dirs.userDataDir);
  const suiteFolder = await makeWorkspace(path.join(tmp, "suite-workspace"));
  const uiFolder = await makeWorkspace(path.join(tmp, "ui-workspace"));
  const resultsFile = path.join(tmp, "results.json");

  let developmentPath = REPO;
  if (options.vsix) {
    console.log(installExtension(cache, dirs, options.vsix).trim());
    const installed = listExtensions(cache, dirs);
    console.log(`installed extensions: ${installed.join(", ")}`);
    if (!installed.some((line) => line.startsWith(`${EXTENSION_ID}@`))) throw new Error(`${EXTENSION_ID} not installed`);
    // An empty development folder: tests need one, and the installed copy is the only ztb extension to load.
    developmentPath = path.join(tmp, "no-development-extension");
    fs.mkdirSync(developmentPath);
  }

  const port = await freePort();
  const logFile = path.join(tmp, "code-server.log");
  console.log(`code-server on http://127.0.0.1:${port} (log ${logFile})`);
  const server = await CodeServer.start(cache, { ...dirs, port, folder: suiteFolder, logFile,
    env: { ...process.env, [RESULTS_ENV]: resultsFile, ...(options.vsix ? { [INSTALLED_IN_ENV]: dirs.extensionsDir } : {}) } });
  let browser: Browser | undefined;
  let suite: SuiteResults = { passes: [], failures: [], error: "not run" };
  let journeys: JourneyResult[] = [];
  try {
    browser = await loadChromium(cache).launch({ executablePath: "/usr/bin/chromium", headless: true,
      args: CHROMIUM_ARGS, timeout: 60_000 });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    let reportExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (reportExit = resolve));
    // The workbench calls window.codeAutomationExit(code) when the extension tests end.
    await page.exposeFunction("codeAutomationExit", (code: unknown) => reportExit(Number(code)));
    await page.goto(workbenchUrl(port, suiteFolder, developmentPath, TESTS_INDEX), { waitUntil: "domcontentloaded" });
    suite = await waitForResults(resultsFile, exited, SUITE_TIMEOUT_MS);
    printSuite(suite);
    if (suite.error || suite.failures.length > 0) await page.screenshot({ path: path.join(tmp, "suite-failure.png") });
    await page.close();

    if (options.ui) {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      journeys = await runUiJourneys(browser, {
        url: workbenchUrl(port, uiFolder, developmentPath), screenshots: SCREENSHOTS, folder: uiFolder });
      printJourneys(journeys);
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }

  const failedJourneys = journeys.filter((j) => j.error).length;
  const failed = suite.failures.length + (suite.error ? 1 : 0) + failedJourneys;
  const passed = suite.passes.length + journeys.length - failedJourneys;
  if (failed > 0) console.log(`\ncode-server log: ${logFile}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`\n${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
