import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runBrokerCommand } from "../../broker/src/cli/broker-command";
import { parseBrokerArgs } from "../../broker/src/cli/broker-options";
import { peerCurve } from "../../broker/src/cli/peer-curve";
import { runKeygenCommand } from "../../broker/src/cli/keygen-command";

const ENDPOINTS = ["tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"];
const quiet = { stdout: { write: () => true }, stderr: { write: () => true } };

describe("cli: CURVE options", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "ztb-cli-curve-"));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("ztb broker parses the secret key and the three allow-lists", () => {
    const options = parseBrokerArgs([
      ...["--curve-secret", "b.key_secret", "--client-keys", "c.txt", "--worker-keys", "w/", "--admin-keys", "a.txt"],
      ...ENDPOINTS,
    ]);
    assert.deepEqual(options.security, { curveSecret: "b.key_secret", clientKeys: "c.txt", workerKeys: "w/", adminKeys: "a.txt" });
  });

  it("ztb broker refuses a bad allow-list in one line with exit 2, before binding anything", async () => {
    await runKeygenCommand(["--out", path.join(dir, "broker")], quiet);
    const list = path.join(dir, "clients.txt");
    await fs.writeFile(list, "# clients\n\nnot-a-key\n");
    const errors: string[] = [];
    const code = await runBrokerCommand(
      ["--curve-secret", path.join(dir, "broker.key_secret"), "--client-keys", list, ...ENDPOINTS],
      { stdout: { write: () => true }, stderr: { write: (line: string) => errors.push(line) } },
    );
    assert.equal(code, 2);
    assert.deepEqual(errors, [`ztb broker: --client-keys ${list}: line 3 is not a Z85 public key\n`]);
  });

  it("ztb broker refuses allow-lists without --curve-secret", async () => {
    const errors: string[] = [];
    const code = await runBrokerCommand(["--worker-keys", dir, ...ENDPOINTS], {
      stdout: { write: () => true },
      stderr: { write: (line: string) => errors.push(line) },
    });
    assert.equal(code, 2);
    assert.deepEqual(errors, ["ztb broker: --worker-keys needs --curve-secret FILE (the broker's NAME.key_secret)\n"]);
  });

  it("peer commands load --curve-key and --server-key, or say which one is wrong", async () => {
    await runKeygenCommand(["--out", path.join(dir, "broker")], quiet);
    await runKeygenCommand(["--out", path.join(dir, "worker")], quiet);
    assert.equal(await peerCurve({}), undefined);
    const keys = await peerCurve({ "curve-key": path.join(dir, "worker.key_secret"), "server-key": path.join(dir, "broker.key") });
    assert.equal(keys?.serverKey.length, 40);
    await assert.rejects(peerCurve({ "curve-key": path.join(dir, "worker.key"), "server-key": path.join(dir, "broker.key") }), {
      name: "UsageError",
      message: `--curve-key ${path.join(dir, "worker.key")}: has no secret-key line (expected a NAME.key_secret written by ztb keygen)`,
    });
  });
});
