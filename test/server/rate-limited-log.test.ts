/** The broker's rate-limited warnings (accept failures, sends over a byte budget): one line per key per second. */
import assert from "node:assert/strict";
import { Logger } from "../../broker/src/server/logger";
import { RateLimitedLog } from "../../broker/src/server/rate-limited-log";

describe("server: rate-limited warnings", () => {
  it("writes the first line per key, suppresses repeats for a second, then reports how many it suppressed", () => {
    const lines: string[] = [];
    let now = 0;
    const log = new RateLimitedLog(new Logger("warn", "json", { write: (l: string) => lines.push(l) }, () => now), () => now);
    for (let i = 0; i < 1000; i++) log.warn("a", "accept-failed", { endpoint: "clients" });
    log.warn("b", "accept-failed", { endpoint: "workers" });
    now = 999;
    log.warn("a", "accept-failed", { endpoint: "clients" });
    now = 1000;
    log.warn("a", "accept-failed", { endpoint: "clients" });
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.endpoint, r.suppressed]),
      [
        ["clients", undefined],
        ["workers", undefined],
        ["clients", 1000],
      ],
    );
  });

  it("writes nothing below its logger's level", () => {
    const lines: string[] = [];
    const log = new RateLimitedLog(new Logger("error", "json", { write: (l: string) => lines.push(l) }));
    log.warn("a", "accept-failed", {});
    assert.deepEqual(lines, []);
  });
});
