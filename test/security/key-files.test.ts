import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { curveKeyPair } from "zeromq";
import { runKeygenCommand } from "../../broker/src/cli/keygen-command";
import {
  BrokerSecurity,
  KeyFileError,
  brokerSecurityFromOptions,
  loadAllowList,
  loadKeyPair,
  loadPeerKeys,
  loadPublicKey,
  peerKeysFromOptions,
  publicKeyOf,
} from "../../broker/src/security";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

/** Asserts `promise` rejects with exactly this one-line message. */
async function rejectsWith(promise: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.message, message);
    assert.ok(!error.message.includes("\n"), "one line");
    return true;
  });
}

describe("CURVE key files", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "ztb-keys-"));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  describe("ztb keygen", () => {
    it("writes a pair that loads back, the secret file private, and prints the public key first", async () => {
      const prefix = path.join(dir, "worker1");
      const run = capture();
      assert.equal(await runKeygenCommand(["--out", prefix], run.io), 0);
      const printed = run.out().split("\n")[0] ?? "";

      const pair = await loadKeyPair(`${prefix}.key_secret`);
      assert.equal(pair.publicKey, printed);
      assert.equal(publicKeyOf(pair.secretKey), pair.publicKey);
      assert.equal(await loadPublicKey(`${prefix}.key`), printed);
      assert.deepEqual([...(await loadAllowList(`${prefix}.key`)).keys()], [printed]);
      assert.equal((await fs.stat(`${prefix}.key_secret`)).mode & 0o777, 0o600);
      assert.ok(!(await fs.readFile(`${prefix}.key`, "utf8")).includes(pair.secretKey), "public file has no secret");
    });

    it("refuses to overwrite without --force (one line, exit 2) and overwrites with it", async () => {
      const prefix = path.join(dir, "broker");
      assert.equal(await runKeygenCommand(["-o", prefix], capture().io), 0);
      const before = await loadKeyPair(`${prefix}.key_secret`);

      const refused = capture();
      assert.equal(await runKeygenCommand(["--out", prefix], refused.io), 2);
      assert.equal(refused.err(), `ztb keygen: ${prefix}.key: already exists (use --force to overwrite)\n`);
      assert.deepEqual(await loadKeyPair(`${prefix}.key_secret`), before);

      await fs.chmod(`${prefix}.key_secret`, 0o644);
      assert.equal(await runKeygenCommand(["--out", prefix, "--force"], capture().io), 0);
      const after = await loadKeyPair(`${prefix}.key_secret`);
      assert.notEqual(after.publicKey, before.publicKey);
      assert.equal((await fs.stat(`${prefix}.key_secret`)).mode & 0o777, 0o600, "mode reset on overwrite");
    });

    it("prints help, and rejects unknown options with exit 2", async () => {
      const help = capture();
      assert.equal(await runKeygenCommand(["--help"], help.io), 0);
      assert.match(help.out(), /^Usage: ztb keygen/);
      const bad = capture();
      assert.equal(await runKeygenCommand(["--bogus"], bad.io), 2);
      assert.match(bad.err(), /^ztb keygen: .*--bogus.*\n$/);
    });

    it("fails with exit 1 when the directory does not exist", async () => {
      const run = capture();
      assert.equal(await runKeygenCommand(["--out", path.join(dir, "missing", "k")], run.io), 1);
      assert.equal(run.err(), `ztb keygen: ${path.join(dir, "missing", "k")}.key_secret: no such file or directory\n`);
    });
  });

  describe("allow-lists", () => {
    it("reads a list with comments, owner labels and blank lines", async () => {
      const [a, b] = [curveKeyPair().publicKey, curveKeyPair().publicKey];
      const file = path.join(dir, "workers.txt");
      await fs.writeFile(file, `# workers\n\n${a}   # gpu-box\n  ${b}\n#${"x".repeat(39)}\n`);
      const list = await loadAllowList(file);
      assert.deepEqual([...list], [
        [a, "gpu-box"],
        [b, "workers.txt:4"],
      ]);
    });

    it("reads every *.key certificate of a directory, ignoring secrets and other files", async () => {
      for (const name of ["w1", "w2"]) await runKeygenCommand(["--out", path.join(dir, name)], capture().io);
      await fs.writeFile(path.join(dir, "README"), "not a key\n");
      await fs.mkdir(path.join(dir, "sub.key"));
      const list = await loadAllowList(dir);
      const expected = await Promise.all(["w1", "w2"].map((n) => loadPublicKey(path.join(dir, `${n}.key`))));
      assert.deepEqual([...list.keys()].sort(), expected.sort());
      assert.deepEqual([...list.values()].sort(), ["w1.key", "w2.key"]);
    });

    it("gives one-line errors naming the file and the line", async () => {
      const file = path.join(dir, "clients.txt");
      await fs.writeFile(file, `# ok\n${curveKeyPair().publicKey}\nnot-a-key\n`);
      await rejectsWith(loadAllowList(file), `${file}: line 3 is not a Z85 public key`);

      await fs.writeFile(file, `${curveKeyPair().publicKey} trailing words\n`);
      await rejectsWith(loadAllowList(file), `${file}: line 1 is not a Z85 public key`);

      const cert = path.join(dir, "bad.key");
      await fs.writeFile(cert, `metadata\ncurve\n    public-key = "tooShort"\n`);
      await rejectsWith(loadAllowList(dir), `${cert}: line 3 is not a Z85 public key`);

      await rejectsWith(loadAllowList(path.join(dir, "nope")), `${path.join(dir, "nope")}: no such file or directory`);
    });

    it("names the broker option in the error", async () => {
      await runKeygenCommand(["--out", path.join(dir, "broker")], capture().io);
      const file = path.join(dir, "clients.txt");
      await fs.writeFile(file, "\n\nxyz\n");
      await rejectsWith(
        BrokerSecurity.load({ curveSecret: path.join(dir, "broker.key_secret"), clientKeys: file }),
        `--client-keys ${file}: line 3 is not a Z85 public key`,
      );
      await rejectsWith(
        BrokerSecurity.load({ curveSecret: path.join(dir, "broker.key") }),
        `--curve-secret ${path.join(dir, "broker.key")}: has no secret-key line (expected a NAME.key_secret written by ztb keygen)`,
      );
    });
  });

  describe("CLI option sets", () => {
    it("turns CURVE off without options and refuses half a configuration", async () => {
      assert.equal(await brokerSecurityFromOptions({}), undefined);
      await rejectsWith(
        brokerSecurityFromOptions({ workerKeys: dir }),
        "--worker-keys needs --curve-secret FILE (the broker's NAME.key_secret)",
      );
      assert.equal(await peerKeysFromOptions({}), undefined);
      await rejectsWith(
        peerKeysFromOptions({ curveKey: "x.key_secret" }),
        "--curve-key needs --server-key FILE|Z85 (the broker's public key)",
      );
      await rejectsWith(
        peerKeysFromOptions({ serverKey: curveKeyPair().publicKey }),
        "--server-key needs --curve-key FILE (this peer's NAME.key_secret)",
      );
    });

    it("loads a full broker configuration", async () => {
      await runKeygenCommand(["--out", path.join(dir, "broker")], capture().io);
      const security = await brokerSecurityFromOptions({ curveSecret: path.join(dir, "broker.key_secret"), workerKeys: dir });
      assert.ok(security !== undefined);
      assert.equal(security.publicKey, await loadPublicKey(path.join(dir, "broker.key")));
      assert.deepEqual(security.policy.sizes(), { client: 0, worker: 1, admin: 0 });
      await security.close();
    });
  });

  describe("key pairs and server keys", () => {
    it("refuses a certificate whose public key is not its secret key's", async () => {
      const file = path.join(dir, "mixed.key_secret");
      const [one, other] = [curveKeyPair(), curveKeyPair()];
      await fs.writeFile(file, `curve\n    public-key = "${other.publicKey}"\n    secret-key = "${one.secretKey}"\n`);
      await rejectsWith(loadKeyPair(file), `${file}: public-key does not belong to secret-key`);
      await fs.writeFile(file, `curve\n    secret-key = "${one.secretKey}"\n`);
      assert.deepEqual(await loadKeyPair(file), one, "public key derived when absent");
    });

    it("takes --server-key as a file or as the Z85 key itself", async () => {
      const pair = curveKeyPair();
      assert.equal(await loadPublicKey(pair.publicKey), pair.publicKey);
      const list = path.join(dir, "two.txt");
      await fs.writeFile(list, `${pair.publicKey}\n${curveKeyPair().publicKey}\n`);
      await rejectsWith(loadPublicKey(list), `${list}: holds 2 public keys, expected exactly one`);
      await rejectsWith(loadPublicKey("short"), "short: is neither a file nor a Z85 public key");
    });

    it("loads a peer's --curve-key and --server-key, naming the option on error", async () => {
      await runKeygenCommand(["--out", path.join(dir, "broker")], capture().io);
      await runKeygenCommand(["--out", path.join(dir, "client")], capture().io);
      const keys = await loadPeerKeys({
        curveKey: path.join(dir, "client.key_secret"),
        serverKey: path.join(dir, "broker.key"),
      });
      assert.equal(keys.serverKey, await loadPublicKey(path.join(dir, "broker.key")));
      assert.deepEqual({ publicKey: keys.publicKey, secretKey: keys.secretKey }, await loadKeyPair(path.join(dir, "client.key_secret")));
      await assert.rejects(loadPeerKeys({ curveKey: path.join(dir, "client.key"), serverKey: "x" }), (e: Error) => {
        assert.ok(e.message.startsWith(`--curve-key ${path.join(dir, "client.key")}: has no secret-key line`));
        return e instanceof Error && !(e instanceof KeyFileError);
      });
    });
  });
});
