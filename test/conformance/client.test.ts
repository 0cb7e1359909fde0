/** `ztb conformance client`: real clients pass; the command line is checked. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { conformance, conformanceJson, FIXTURES, requirePyzmq, ROOT, rows, RUN_TIMEOUT_MS, ZTB } from "./run";

describe("conformance: clients", function () {
  this.timeout(RUN_TIMEOUT_MS);

  it("ztb client send (enveloped): request, replies, giving up with CANCEL when nothing answers", async () => {
    const { code, report, statuses } = await conformanceJson(["client", "--", ...ZTB, "client", "send", "--deadline", "1s", "{clients}", "hello"]);
    assert.equal(code, 0, rows(report));
    for (const id of ["client.request", "client.success-reply", "client.failure-reply", "client.deadline", "client.cancel", "schema.messages"]) {
      assert.equal(statuses[id], "pass", `${id}\n${rows(report)}`);
    }
    assert.equal(statuses["client.resend"], "skip", rows(report));
    assert.match(report.checks[0]?.detail ?? "", /enveloped REQUEST/);
  });

  it("ztb client send --resend sends again with its key on a new socket and does not cancel", async () => {
    const { code, report, statuses } = await conformanceJson(["client", "--", ...ZTB, "client", "send", "--deadline", "500ms", "--resend", "1", "{clients}", "hello"]);
    assert.equal(code, 0, rows(report));
    for (const id of ["client.deadline", "client.cancel", "client.resend"]) assert.equal(statuses[id], "pass", `${id}\n${rows(report)}`);
    assert.match(report.checks.find((c) => c.id === "client.resend")?.detail ?? "", /sent again 1 time\(s\) with key/);
  });

  it("a client that waits forever for a reply fails client.deadline", async () => {
    const script = join(FIXTURES, "client-never-gives-up.js");
    const { code, report, statuses } = await conformanceJson(["client", "--", process.execPath, script, "--deadline", "300"]);
    assert.equal(code, 1, rows(report));
    assert.equal(statuses["client.deadline"], "fail", rows(report));
    assert.match(report.checks.find((c) => c.id === "client.deadline")?.detail ?? "", /still waiting/);
  });

  it("a client that resends without a key, on the same connection, fails client.resend", async () => {
    const script = join(FIXTURES, "client-never-gives-up.js");
    const { code, report, statuses } = await conformanceJson(["client", "--", process.execPath, script, "--deadline", "300", "--resend-same-socket"]);
    assert.equal(code, 1, rows(report));
    assert.equal(statuses["client.resend"], "fail", rows(report));
    assert.match(report.checks.find((c) => c.id === "client.resend")?.detail ?? "", /without a key/);
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
