/**
 * `ztb demo --crash`: the walk-through with a durable broker SIGKILLed mid-run and restarted on the same data directory
 * and ports (real processes: the demo's broker, workers and client are children of the real CLI). The demo itself
 * judges the run (exit 0 only when every request got exactly one reply); this test also reads what it printed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { collectOutput } from "./child-output";

const CLI = join(__dirname, "../../broker/src/cli/main.js");

describe("ztb demo --crash", function () {
  this.timeout(120_000);

  it("kills the durable broker mid-run, restarts it, and ends with every request answered exactly once", async () => {
    const child = spawn(process.execPath, [CLI, "demo", "--crash", "-n", "3", "--count", "20", "-T", "0.5"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    const run = await collectOutput(child);
    const report = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.code, 0, report);
    assert.match(run.stdout, /broker killed \(SIGKILL\) with \d+ tasks queued and \d+ running/, report);
    assert.match(run.stdout, /broker restarted on the same data directory and ports \d+ ms after the kill: recovered \d+ unfinished tasks/, report);
    assert.match(run.stdout, /^ {2}requests {4}60$/m, report);
    assert.match(run.stdout, /^ {2}replies {5}60$/m, report);
    assert.match(run.stdout, /^ {2}lost {8}0$/m, report);
    assert.match(run.stdout, /^ {2}duplicates {2}0$/m, report);
    assert.match(run.stdout, /every request got exactly one reply/, report);
    // The kill came mid-run: replies came both before it and after the restart.
    const killedAt = run.stdout.indexOf("broker killed (SIGKILL)");
    assert.ok(/^client +request \d+ -> /m.test(run.stdout.slice(0, killedAt)), report);
    assert.ok(/^client +request \d+ -> /m.test(run.stdout.slice(killedAt)), report);
  });
});
