/**
 * The Python implementation's own unit tests (frame building and parsing against the spec's vectors), run with the
 * interpreter that has pyzmq so that they belong to `npm test` like every other suite.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { PYTHON, WORKER_SCRIPT, requirePyzmq } from "./python-peers";

describe("Python implementation (protocol/implementations/python)", () => {
  before(requirePyzmq);

  it("passes its unittest suite (selftest.py)", () => {
    const run = spawnSync(PYTHON, ["-m", "unittest", "-v", "selftest"], {
      cwd: dirname(WORKER_SCRIPT),
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(run.status, 0, `selftest.py failed:\n${run.stderr}`);
    const ran = /Ran (\d+) tests?/.exec(run.stderr);
    assert.ok(ran !== null && Number(ran[1]) > 0, `selftest.py ran no test:\n${run.stderr}`);
  });
});
