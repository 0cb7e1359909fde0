/**
 * The short form of `npm run chaos -- --broker-kill` (run-broker-kill.ts): 3 000 requests from clients with routing
 * ids and keyed clients that resend, through a durable broker SIGKILLed and restarted on its --data directory every
 * 1.5 to 3 s, while misbehaving workers are killed too. Judged against the journal at the end.
 */
import assert from "node:assert/strict";
import { BROKER_KILL_OPTIONS, brokerKillViolations, formatBrokerKillSummary, runBrokerKill } from "./run-broker-kill";

describe("chaos --broker-kill (short form)", function () {
  this.timeout(180_000);

  it("3 000 requests across broker kills: every journaled request answered once, every key once with one task", async () => {
    const summary = await runBrokerKill({ ...BROKER_KILL_OPTIONS, requests: 3000, killMin: 1500, killMax: 3000 });
    const report = formatBrokerKillSummary(summary);
    assert.deepEqual(brokerKillViolations(summary), [], report);
    assert.equal(summary.sent, 3000, report);
    // The chaos really happened: the broker was killed under load with tasks in hand, keyed clients resent across a
    // kill, each restarted broker answered, and workers misbehaved.
    assert.ok(summary.restarts.length >= 2, report);
    assert.ok(summary.restarts.some((r) => (r.queued ?? 0) + (r.running ?? 0) > 0), report);
    assert.ok(summary.resends > 0, report);
    assert.ok(summary.restarts.filter((r) => r.firstReply !== undefined).length >= 2, report);
    assert.ok((summary.failures["worker-failed"] ?? 0) > 0, report);
    assert.equal(summary.replies + summary.notJournaled, summary.sent, report);
  });
});
