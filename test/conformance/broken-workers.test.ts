/** `ztb conformance worker` fails deliberately broken workers, naming the check each one breaks. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { conformance, conformanceJson, FIXTURES, rows, RUN_TIMEOUT_MS } from "./run";

const fixture = (name: string): string[] => [process.execPath, join(FIXTURES, `${name}.js`)];

describe("conformance: broken workers fail the right check", function () {
  this.timeout(RUN_TIMEOUT_MS);

  it("a wrong task id fails task.answer-id: a FAIL line with the ids, the frames in hex and the spec rule; exit 1", async () => {
    const run = await conformance(["worker", "--heartbeat", "200", "--", ...fixture("wrong-task-id")]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /^PASS ready\.schema /m);
    const line = run.stdout.split("\n").find((text) => text.startsWith("FAIL task.answer-id"));
    assert.ok(line !== undefined, run.stdout);
    // The fixture flips the last octet's low bit: task <nonce>-1 comes back as <nonce>-0.
    const [, named, sent] = /RESULT names task (\S+) but TASK was (\S+)/.exec(line) ?? [];
    assert.ok(named !== undefined && sent !== undefined, line);
    assert.equal(named, sent.replace(/1$/, "0"));
    const hex = Buffer.from(named).toString("hex");
    assert.match(line, new RegExp(`frames: "" 5a5442573031 524553554c54 ${hex}`), line);
    assert.match(line, /\(spec §Worker protocol › Modern workers, rule 3\)$/);
    assert.match(run.stdout, /^FAILED: \d+ passed, [1-9]\d* failed/m);
  });

  it("no heartbeats fails heartbeat.interval, and only the checks that need a live worker", async () => {
    const { code, report, statuses } = await conformanceJson(["worker", "--heartbeat", "200", "--", ...fixture("no-heartbeats")]);
    assert.equal(code, 1);
    assert.equal(statuses["heartbeat.interval"], "fail", rows(report));
    assert.match(report.checks.find((check) => check.id === "heartbeat.interval")?.detail ?? "", /silent for \d+ ms .*0 HEARTBEAT/);
    for (const id of ["ready.schema", "task.answer-id", "task.opaque-id", "schema.messages"]) assert.equal(statuses[id], "pass", `${id}\n${rows(report)}`);
  });

  it("invalid READY JSON fails ready.schema with ZTB_ERR_BAD_JSON and schema.messages", async () => {
    const { code, report, statuses } = await conformanceJson(["worker", "--", ...fixture("invalid-ready-json")]);
    assert.equal(code, 1);
    const ready = report.checks.find((check) => check.id === "ready.schema");
    assert.equal(ready?.status, "fail", rows(report));
    assert.match(ready?.detail ?? "", /^ZTB_ERR_BAD_JSON/);
    assert.deepEqual(ready?.frames?.[0]?.split(" ").slice(0, 3), ['""', "5a5442573031", "5245414459"]);
    assert.equal(statuses["schema.messages"], "fail");
    assert.equal(statuses["heartbeat.interval"], "skip");
  });
});
