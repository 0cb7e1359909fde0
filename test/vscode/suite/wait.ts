/** Waiting on the extension's API in the integration suite: conditions, never fixed sleeps. */
import type { ZtbExtensionApi } from "../../../extension/src/api";

const STEP_TIMEOUT_MS = 20_000;

/** Resolves once `check()` holds, re-checking after every API change; rejects after `timeoutMs` saying what it saw. */
export function waitFor(api: ZtbExtensionApi, what: string, check: () => boolean, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const poll = setInterval(settle, 250); // also re-check on a slow tick: some changes (editors) fire no API event
    const subscription = api.onDidChange(settle);
    const timer = setTimeout(() => {
      cleanup();
      const seen = `state=${api.state()} workers=${api.workers().length} tasks=${api.tasks().length} ` +
        `lastError=${api.lastError() ?? "-"} lastReply=${api.lastReply()?.status ?? "-"}`;
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${seen})`));
    }, timeoutMs);
    function cleanup(): void {
      clearInterval(poll);
      clearTimeout(timer);
      subscription.dispose();
    }
    function settle(): void {
      if (!check()) return;
      cleanup();
      resolve();
    }
  });
}
