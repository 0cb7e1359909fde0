/** `ztb conformance worker` passes against the real workers: ztb's own (modern and legacy) and the Python one. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { conformance, conformanceJson, requirePyzmq, ROOT, rows, RUN_TIMEOUT_MS, ZTB } from "./run";

const PYTHON_WORKER = join(ROOT, "protocol/implementations/python/ztb_worker.py");

/** The checks every modern worker we ship passes, whatever its mode. */
const ALWAYS = [
  "ready.first", "ready.schema", "heartbeat.interval", "task.answer-id", "task.opaque-id", "task.capacity", "task.other-service",
  "task.repeat-id", "cancel.honoured", "cancel.unknown-reason", "broker.malformed", "liveness.broker-silent", "reconnect.restart",
  "disconnect.shutdown", "disconnect.protocol-error", "leave.graceful", "disconnect.bye", "disconnect.draining", "schema.messages",
];

describe("conformance: real workers pass", function () {
  this.timeout(RUN_TIMEOUT_MS);

  it("ztb worker (modern): every check passes, FAIL included (a TASK of a service it does not serve); EXTEND is not needed", async () => {
    const { code, report, statuses } = await conformanceJson(["worker", "--", ...ZTB, "worker", "{workers}", "--heartbeat", "300"]);
    assert.equal(code, 0, rows(report));
    for (const id of [...ALWAYS, "task.fail"]) assert.equal(statuses[id], "pass", `${id}\n${rows(report)}`);
    assert.equal(statuses["extend.deadline"], "skip", rows(report));
    assert.equal(statuses["legacy.ready"], "n/a");
  });

  it("ztb worker failing every task, slow, with capacity 2: FAIL carries its reason and CANCEL stops a running task", async () => {
    const { code, report, statuses } = await conformanceJson([
      "worker", "--", ...ZTB, "worker", "{workers}", "--fail-rate", "1", "--delay", "300", "--capacity", "2", "--heartbeat", "300",
    ]);
    assert.equal(code, 0, rows(report));
    for (const id of [...ALWAYS, "task.fail", "extend.deadline"]) assert.equal(statuses[id], "pass", `${id}\n${rows(report)}`);
    const cancel = report.checks.find((check) => check.id === "cancel.honoured");
    assert.equal(cancel?.status, "pass", rows(report));
    assert.match(cancel?.detail ?? "", /not answered \(stopped\)/);
  });

  it("ztb worker whose tasks take longer than the checker's base window (3.2 s): nothing fails, CANCEL is honoured", async () => {
    const { code, report, statuses } = await conformanceJson(["worker", "--", ...ZTB, "worker", "{workers}", "--delay", "3200", "--heartbeat", "300"]);
    assert.equal(code, 0, rows(report));
    for (const id of [...ALWAYS, "task.fail", "extend.deadline"]) assert.equal(statuses[id], "pass", `${id}\n${rows(report)}`);
    assert.match(report.checks.find((check) => check.id === "leave.graceful")?.detail ?? "", /held task (answered|given back)/);
  });

  it("ztb worker --legacy: the legacy checks pass and the modern ones are not applicable", async () => {
    const { code, report, statuses } = await conformanceJson(["worker", "--legacy", "--", ...ZTB, "worker", "{workers}", "{answers}", "--legacy"]);
    assert.equal(code, 0, rows(report));
    assert.equal(report.mode, "legacy");
    for (const id of ["legacy.ready", "legacy.answer-id", "legacy.opaque-id", "legacy.asks-again", "schema.messages"]) {
      assert.equal(statuses[id], "pass", `${id}\n${rows(report)}`);
    }
    for (const id of ["ready.schema", "heartbeat.interval", "cancel.honoured", "disconnect.bye"]) assert.equal(statuses[id], "n/a", id);
  });

  it("a modern worker checked with --legacy fails legacy.ready, naming the modern READY", async () => {
    const run = await conformance(["worker", "--legacy", "--", ...ZTB, "worker", "{workers}"]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /^FAIL legacy\.ready .*a modern READY \(run without --legacy\)/m);
  });

  it("the Python worker (endpoints from the environment only): every check passes, FAIL included", async () => {
    const python = requirePyzmq();
    const { code, report, statuses } = await conformanceJson([
      "worker", "--", python, PYTHON_WORKER, "--heartbeat", "300", "--capacity", "2", "--fail-rate", "0.5", "--seed", "7", "--delay", "300",
    ]);
    assert.equal(code, 0, rows(report));
    for (const id of [...ALWAYS, "task.fail", "extend.deadline"]) assert.equal(statuses[id], "pass", `${id}\n${rows(report)}`);
  });
});
