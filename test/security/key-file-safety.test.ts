/**
 * protocol/spec.md §Security, key files: `ztb keygen --force` never writes the secret through a symbolic link planted
 * at NAME.key_secret (it used to overwrite the link's target), and a real `ztb broker` warns once at start when its
 * --curve-secret file can be read by group or others.
 */
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runKeygenCommand } from "../../broker/src/cli/keygen-command";
import { loadKeyPair } from "../../broker/src/security";
import { spawnBroker } from "../chaos/broker-process";

function capture(): { io: { stdout: { write(t: string): boolean }; stderr: { write(t: string): boolean } }; err(): string } {
  let err = "";
  return { io: { stdout: { write: () => true }, stderr: { write: (t) => ((err += t), true) } }, err: () => err };
}

describe("security: key files are written and read safely", function () {
  this.timeout(20_000);
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "ztb-key-safety-"));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("keygen --force refuses a symbolic link at NAME.key_secret and leaves its target untouched", async () => {
    const victim = path.join(dir, "victim.txt");
    await fs.writeFile(victim, "precious\n", { mode: 0o644 });
    const prefix = path.join(dir, "broker");
    await fs.symlink(victim, `${prefix}.key_secret`);

    const run = capture();
    assert.equal(await runKeygenCommand(["--out", prefix, "--force"], run.io), 1);
    assert.equal(run.err(), `ztb keygen: ${prefix}.key_secret: is a symbolic link; refusing to write a key through it\n`);
    assert.equal(await fs.readFile(victim, "utf8"), "precious\n");
    assert.ok((await fs.lstat(`${prefix}.key_secret`)).isSymbolicLink(), "the link is reported, not replaced");
    assert.deepEqual((await fs.readdir(dir)).sort(), ["broker.key_secret", "victim.txt"], "no temporary file left behind");
  });

  it("keygen without --force treats a dangling link as an existing file", async () => {
    const prefix = path.join(dir, "worker");
    await fs.symlink(path.join(dir, "not-yet"), `${prefix}.key_secret`);
    const run = capture();
    assert.equal(await runKeygenCommand(["--out", prefix], run.io), 2);
    await assert.rejects(fs.stat(path.join(dir, "not-yet")), "nothing was created through the link");
  });

  it("keygen --force replaces regular files with new private ones", async () => {
    const prefix = path.join(dir, "client");
    assert.equal(await runKeygenCommand(["--out", prefix], capture().io), 0);
    const before = await loadKeyPair(`${prefix}.key_secret`);
    await fs.chmod(`${prefix}.key_secret`, 0o666);
    assert.equal(await runKeygenCommand(["--out", prefix, "--force"], capture().io), 0);
    assert.notEqual((await loadKeyPair(`${prefix}.key_secret`)).secretKey, before.secretKey);
    assert.equal((await fs.stat(`${prefix}.key_secret`)).mode & 0o777, 0o600);
    assert.equal((await fs.stat(`${prefix}.key`)).mode & 0o777, 0o644);
    assert.deepEqual((await fs.readdir(dir)).sort(), ["client.key", "client.key_secret"]);
  });

  for (const [mode, warned] of [
    [0o600, false],
    [0o640, true],
    [0o604, true],
  ] as const) {
    it(`ztb broker ${warned ? "warns once" : "does not warn"} when --curve-secret has mode ${mode.toString(8)}`, async () => {
      const prefix = path.join(dir, "broker");
      assert.equal(await runKeygenCommand(["--out", prefix], capture().io), 0);
      await fs.chmod(`${prefix}.key_secret`, mode);
      const list = path.join(dir, "clients.txt");
      await fs.writeFile(list, `${(await loadKeyPair(`${prefix}.key_secret`)).publicKey}\n`);
      const broker = await spawnBroker([
        "--curve-secret",
        `${prefix}.key_secret`,
        ...["--client-keys", list, "--worker-keys", list, "--admin-keys", list],
      ]);
      // The warning comes before the "curve" line: once that line is read, the warning would have been too.
      while ((broker.events.get("curve") ?? 0) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await broker.stop();
      assert.equal(broker.events.get("curve-secret-readable") ?? 0, warned ? 1 : 0, broker.recent.join("\n"));
    });
  }
});
