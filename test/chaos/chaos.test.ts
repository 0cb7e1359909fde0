/**
 * The short form of `npm run chaos` (test/chaos/main.ts): 2 000 requests through a broker with `-t 3 -T 1`, misbehaving
 * modern, library and legacy worker processes, one SIGKILLed and restarted every second, plain and enveloped clients.
 */
import assert from "node:assert/strict";
import { DEFAULT_OPTIONS, formatSummary, RSS_LIMIT, runChaos, violations } from "./run-chaos";

describe("chaos (short form of npm run chaos)", function () {
  this.timeout(120_000);

  it("2 000 requests under worker kills: no request lost or answered twice, every failure justified", async () => {
    const summary = await runChaos({ ...DEFAULT_OPTIONS, requests: 2000, killEvery: 1000 });
    const report = formatSummary(summary);
    assert.deepEqual(violations(summary, RSS_LIMIT), [], report);
    assert.equal(summary.replies, 2000, report);
    // The chaos really happened: retries, late and duplicate answers, non-retryable FAILs, kills with held tasks.
    assert.ok((summary.brokerCounters?.retried ?? 0) > 0 && (summary.brokerCounters?.late ?? 0) > 0, report);
    assert.ok((summary.failures["worker-failed"] ?? 0) > 0, report);
    assert.ok(summary.kills >= 2, report);
    assert.ok(summary.killWatches.some((w) => w.held > 0 && w.redispatchedAfter !== undefined), report);
  });
});
