/**
 * The few playwright-core calls the web runner makes, typed here because playwright-core lives in the code-server
 * cache (install-code-server.sh), not in the project's dependencies.
 */
import * as path from "node:path";

export interface Locator {
  click(options?: { timeout?: number }): Promise<void>;
  waitFor(options?: { state?: "attached" | "detached" | "visible" | "hidden"; timeout?: number }): Promise<void>;
  count(): Promise<number>;
  first(): Locator;
  last(): Locator;
  nth(index: number): Locator;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  filter(options: { hasText?: string | RegExp }): Locator;
  innerText(options?: { timeout?: number }): Promise<string>;
  isVisible(): Promise<boolean>;
  getAttribute(name: string): Promise<string | null>;
}

/** An iframe's document (webviews nest two). */
export interface FrameLocator {
  frameLocator(selector: string): FrameLocator;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
}

export interface Keyboard {
  press(key: string): Promise<void>;
  type(text: string, options?: { delay?: number }): Promise<void>;
}

export interface Page {
  goto(url: string, options?: { waitUntil?: "load" | "domcontentloaded"; timeout?: number }): Promise<unknown>;
  exposeFunction(name: string, callback: (...args: unknown[]) => unknown): Promise<void>;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  frameLocator(selector: string): FrameLocator;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  waitForTimeout(ms: number): Promise<void>;
  on(event: "console", listener: (message: { type(): string; text(): string }) => void): void;
  on(event: "pageerror", listener: (error: Error) => void): void;
  close(): Promise<void>;
  readonly keyboard: Keyboard;
  readonly mouse: { move(x: number, y: number): Promise<void> };
}

export interface Browser {
  newPage(options?: { viewport?: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}

interface Chromium {
  launch(options: { executablePath: string; headless: boolean; args: string[]; timeout?: number }): Promise<Browser>;
}

/** Loads playwright-core from the cache directory. */
export function loadChromium(cacheDir: string): Chromium {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is found at run time, not compile time
  const playwright = require(path.join(cacheDir, "node_modules", "playwright-core")) as { chromium: Chromium };
  return playwright.chromium;
}
