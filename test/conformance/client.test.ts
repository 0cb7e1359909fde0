/** `ztb conformance client`: real clients pass; the command line is checked. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { conformance, conformanceJson, requirePyzmq, ROOT, rows, RUN_TIMEOUT_MS, ZTB } from "./run";

describe("conformance: clients", function () {
  this.timeout(RUN_TIMEOUT_MS);

  it("ztb client send (enveloped): request, success reply and failure reply pass", async () => {
    const { code, report, statuses } = await conformanceJson(["client", "--", ...ZTB, "client", "send", "{clients}", "hello"]);
    assert.equal(code, 0, rows(report));
    for (const id of ["client.request", "client.success-reply", "client.failure-reply", "schema.messages"]) assert.equal(statuses[id], "pass", `${id}\n${rows(report)}`);
    assert.match(report.checks[0]?.detail ?? "", /enveloped REQUEST/);
  });

  it("a plain client (the Python one with --plain, endpoint from the environment) passes", async () => {
    const script = join(ROOT, "protocol/implementations/python/ztb_client.py");
    const { code, report, statuses } = await conformanceJson(["client", "--", requirePyzmq(), script, "--plain", "--wait", "3000", "hello"]);
    assert.equal(code, 0, rows(report));
    assert.match(report.checks[0]?.detail ?? "", /plain request/);
    assert.equal(statuses["client.failure-reply"], "pass", rows(report));
  });

  it("a command that sends nothing fails client.request", async () => {
    const { code, statuses } = await conformanceJson(["client", "--", process.execPath, "-e", "process.exit(0)"]);
    assert.equal(code, 1);
    assert.equal(statuses["client.request"], "fail");
  });

  it("usage errors exit 2", async () => {
    const none = await conformance(["worker"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no command under test/);
    const role = await conformance(["broker", "--", "true"]);
    assert.equal(role.code, 2);
  });
});
