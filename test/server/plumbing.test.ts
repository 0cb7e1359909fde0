/** The shell's small parts: the one-timer deadline driver, structured log lines, peer keys. */
import assert from "node:assert/strict";
import { DeadlineTimer } from "../../broker/src/server/deadline-timer";
import { Logger } from "../../broker/src/server/logger";
import { peerKey, routingId } from "../../broker/src/server/peer-keys";

describe("server plumbing", () => {
  it("peer keys round-trip any routing id", () => {
    const id = Buffer.from([0, 0x80, 0xff, 0x41, 0x0a]);
    assert.deepEqual(routingId(peerKey(id)), id);
  });

  it("DeadlineTimer fires once for the earliest deadline and re-arms only when it moves earlier", async () => {
    const fired: number[] = [];
    const timer = new DeadlineTimer(() => fired.push(Date.now()));
    const start = Date.now();
    timer.update(start + 200);
    timer.update(start + 20); // earlier: re-armed
    timer.update(start + 100); // later: ignored, the 20 ms timer stays
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(fired.length, 1);
    timer.update(start + 10_000);
    timer.stop();
    assert.equal(fired.length, 1);
  });

  it("Logger filters by level and writes text or one JSON object per line", () => {
    const lines: string[] = [];
    const sink = { write: (line: string) => lines.push(line) };
    const text = new Logger("warn", "text", sink, () => 0);
    text.info("hidden", {});
    text.warn("send-dropped", { socket: "clients", reason: "peer at high-water mark" });
    assert.deepEqual(lines, ['1970-01-01T00:00:00.000Z warn  send-dropped socket=clients reason="peer at high-water mark"\n']);
    lines.length = 0;
    const json = new Logger("debug", "json", sink, () => 0);
    json.debug("x", { n: 1, ok: true, none: null });
    assert.deepEqual(JSON.parse(lines[0] ?? ""), { time: "1970-01-01T00:00:00.000Z", level: "debug", event: "x", n: 1, ok: true, none: null });
  });
});
