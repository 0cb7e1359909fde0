import type { Browser } from "./playwright";

export interface JourneyResult {
  title: string;
  screenshot?: string;
  error?: string;
}

export async function runUiJourneys(browser: Browser, options: { url: string; screenshots: string }): Promise<JourneyResult[]> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(options.url);
  await page.waitForTimeout(8000);
  await page.screenshot({ path: `${options.screenshots}/probe.png` });
  await page.close();
  return [];
}
