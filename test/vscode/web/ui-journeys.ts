/**
 * The three user journeys of issue 3, driven through the workbench UI as a person would, each ending in a
 * screenshot (test/vscode/screenshots/, git-ignored):
 *   1. F1 → "ZeroMQ Broker: Start Broker" → the status bar says the broker runs.
 *   3. Start Test Workers (input boxes: count 2, drop rate 0), open sample.ztb, click the "Send Request" CodeLens →
 *      the reply opens in a side editor.
 *   2. The ZeroMQ Broker sidebar with the live workers and the succeeded tasks.
 * Run in that order (2 needs the tasks of 3). Waits are on what the page shows (status bar text, list rows, editor
 * text), never on fixed sleeps, except a short settle before each screenshot so animations finish.
 */
import * as path from "node:path";
import type { Browser, Page } from "./playwright";
import { PALETTE, SAMPLE_REQUEST_FILE } from "../suite/ids";

export interface JourneyResult {
  title: string;
  screenshot?: string;
  error?: string;
}

const WAIT_MS = 30_000;
const SETTLE_MS = 800;

const sel = {
  statusItem: ".part.statusbar .statusbar-item",
  quickInput: ".quick-input-widget",
  quickInputFocusedRow: ".quick-input-widget .monaco-list-row.focused",
  activityZtb: '.part.activitybar .action-item a[aria-label^="ZeroMQ Broker"]',
  sidebar: ".part.sidebar",
  codeLens: ".codelens-decoration a",
  editorLines: ".monaco-editor .view-lines",
};

async function runCommand(page: Page, label: string): Promise<void> {
  await page.keyboard.press("F1");
  await page.locator(sel.quickInput).waitFor({ state: "visible", timeout: WAIT_MS });
  await page.keyboard.type(label);
  const focused = page.locator(sel.quickInputFocusedRow, { hasText: label });
  await focused.waitFor({ state: "visible", timeout: WAIT_MS });
}

/** Types a value into an input box the extension opened (replacing any default) and accepts it. */
async function answerInputBox(page: Page, value: string, promptHint: RegExp): Promise<void> {
  await page.locator(sel.quickInput, { hasText: promptHint }).waitFor({ state: "visible", timeout: WAIT_MS });
  await page.keyboard.press("Control+A");
  await page.keyboard.type(value);
  await page.keyboard.press("Enter");
}

async function statusBar(page: Page, text: RegExp): Promise<void> {
  await page.locator(sel.statusItem, { hasText: text }).first().waitFor({ state: "visible", timeout: WAIT_MS });
}

async function shoot(page: Page, dir: string, name: string): Promise<string> {
  await page.mouse.move(700, 600); // no hover tooltip over what the screenshot is about
  await page.waitForTimeout(SETTLE_MS);
  const file = path.join(dir, name);
  await page.screenshot({ path: file });
  return file;
}

export async function runUiJourneys(browser: Browser, options: { url: string; screenshots: string }): Promise<JourneyResult[]> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const results: JourneyResult[] = [];
  const journey = async (title: string, body: () => Promise<string>): Promise<boolean> => {
    try {
      results.push({ title, screenshot: await body() });
      return true;
    } catch (err) {
      const failure = path.join(options.screenshots, `failed-${results.length + 1}.png`);
      await page.screenshot({ path: failure }).catch(() => undefined);
      results.push({ title, screenshot: failure, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  };
  try {
    await page.goto(options.url, { waitUntil: "domcontentloaded" });
    const ok = await journey("command palette → Start Broker → status bar shows it running", async () => {
      // The extension activates on the workspace's .ztb file and shows its status bar item.
      await statusBar(page, /ztb stopped/);
      await runCommand(page, PALETTE.startBroker);
      const shot = await shoot(page, options.screenshots, "1-command-palette-start-broker.png");
      await page.keyboard.press("Enter");
      await statusBar(page, /ztb running/);
      return shot;
    });
    if (!ok) return results;

    const sent = await journey("Start Test Workers, CodeLens \"Send Request\" → reply editor", async () => {
      await runCommand(page, PALETTE.startTestWorkers);
      await page.keyboard.press("Enter");
      await answerInputBox(page, "2", /worker/i);
      await answerInputBox(page, "0", /drop/i);
      await statusBar(page, /2 workers/);

      await page.keyboard.press("F1");
      await page.locator(sel.quickInput).waitFor({ state: "visible", timeout: WAIT_MS });
      await page.keyboard.press("Backspace"); // drop the ">" prefix: quick open of files
      await page.keyboard.type(SAMPLE_REQUEST_FILE);
      await page.locator(sel.quickInputFocusedRow, { hasText: SAMPLE_REQUEST_FILE }).waitFor({ timeout: WAIT_MS });
      await page.keyboard.press("Enter");

      const lenses = page.locator(sel.codeLens, { hasText: "Send Request" });
      await lenses.first().waitFor({ state: "visible", timeout: WAIT_MS });
      await lenses.nth(1).click({ timeout: WAIT_MS }); // the binary block
      await page.locator(sel.editorLines, { hasText: /succeeded/ }).first().waitFor({ timeout: WAIT_MS });
      await lenses.first().click({ timeout: WAIT_MS }); // "Say hello": its reply replaces the preview beside
      await page.locator(sel.editorLines, { hasText: /hello/ }).last().waitFor({ timeout: WAIT_MS });
      await page.locator(sel.editorLines, { hasText: /succeeded/ }).first().waitFor({ timeout: WAIT_MS });
      return shoot(page, options.screenshots, "3-codelens-reply-editor.png");
    });
    if (!sent) return results;

    await journey("sidebar shows the live workers and the succeeded tasks", async () => {
      await page.locator(sel.activityZtb).click({ timeout: WAIT_MS });
      const sidebar = page.locator(sel.sidebar);
      await sidebar.locator(".monaco-list-row", { hasText: /modern/ }).nth(1).waitFor({ timeout: WAIT_MS });
      const succeeded = sidebar.locator(".monaco-list-row", { hasText: /^Succeeded/ }).first();
      await succeeded.waitFor({ timeout: WAIT_MS });
      if ((await succeeded.getAttribute("aria-expanded")) === "false") await succeeded.click();
      return shoot(page, options.screenshots, "2-sidebar-workers-tasks.png");
    });

    // Not a journey of its own: leave the window as a person would, through the palette.
    await runCommand(page, PALETTE.stopTestWorkers).then(() => page.keyboard.press("Enter")).catch(() => undefined);
    await runCommand(page, PALETTE.stopBroker).then(() => page.keyboard.press("Enter")).catch(() => undefined);
    await statusBar(page, /ztb stopped/).catch(() => undefined);
    return results;
  } finally {
    await page.close().catch(() => undefined);
  }
}
