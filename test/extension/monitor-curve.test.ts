/**
 * The extension's monitor child (extension/src/bridge/monitor-child.ts) against a real CURVE broker: forked as the
 * extension forks it, driven over Node IPC with the messages of bridge/ipc.ts, no VS Code.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CurveKeyPair } from "../../broker/src/security";
import { BrokerSecurity, generateKeyPair, writeKeyPair } from "../../broker/src/security";
import { Worker } from "../../broker/src/worker";
import type { CurveFiles } from "../../extension/src/bridge/ipc";
import { ownBrokerCurve } from "../../extension/src/broker/curve";
import { brokerArgs, workerArgs } from "../../extension/src/broker/launch";
import { startBroker, type RunningBroker } from "../server/harness";
import { within } from "../security/curve-helpers";
import { CAP, ChildUnderTest, isCurveError, isReply, isSnapshot } from "./monitor-child-harness";

const CLI = path.join(__dirname, "..", "..", "broker", "src", "cli", "main.js");

describe("the extension's monitor child with a CURVE broker", () => {
  let dir: string;
  let broker: RunningBroker;
  let security: BrokerSecurity;
  const keys: Record<string, CurveKeyPair> = {};
  const closers: (() => Promise<void> | void)[] = [];

  const secretFile = (name: string): string => path.join(dir, `${name}.key_secret`);
  const files = (name: string, serverKey = path.join(dir, "broker.key")): CurveFiles => ({
    certificate: secretFile(name),
    serverKey,
    serverKeySetting: "ztb.curve.serverKey",
  });
  const admin = (): string => broker.endpoints.admin ?? assert.fail("the harness binds an admin endpoint");
  const child = (): ChildUnderTest => {
    const c = new ChildUnderTest();
    closers.push(() => c.kill());
    return c;
  };

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "ztb-ext-curve-"));
    for (const name of ["broker", "extension", "stranger", "worker"]) {
      keys[name] = generateKeyPair();
      await writeKeyPair(path.join(dir, name), keys[name] as CurveKeyPair, false);
    }
    // The extension's public certificate is its admin and client allow-list entry, as README tells users to do.
    security = await BrokerSecurity.load({
      curveSecret: secretFile("broker"),
      adminKeys: path.join(dir, "extension.key"),
      clientKeys: path.join(dir, "extension.key"),
      workerKeys: path.join(dir, "worker.key"),
    });
    await security.start();
    broker = await startBroker({ security });
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await broker.stop();
    await security.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("gets a snapshot with the extension's allowed key, and sends a request over CURVE", async () => {
    const worker = new Worker({
      endpoint: broker.endpoints.workers,
      name: "curve-worker",
      handler: async (task) => [Buffer.from("done:"), ...task.payload],
      curve: { ...(keys.worker as CurveKeyPair), serverKey: security.publicKey },
    });
    worker.start();
    closers.push(() => worker.close());

    const monitor = child();
    monitor.send({ type: "attach", admin: admin(), curve: files("extension") });
    const snapshot = await monitor.next("snapshot", isSnapshot);
    assert.equal(snapshot.snapshot.broker.version, "test");

    monitor.send({
      type: "request",
      id: 1,
      spec: { endpoint: broker.endpoints.clients, frames: [Buffer.from("job").toString("base64")], curve: files("extension", security.publicKey) },
    });
    const reply = await monitor.next("reply", isReply);
    assert.equal(reply.detail.status, "succeeded");
    assert.deepEqual(reply.frames, [{ text: "done:" }, { text: "job" }]);
    assert.deepEqual(monitor.messages.filter(isCurveError), []);
  });

  it("reports a key the broker refuses as not in its admin allow-list", async () => {
    const monitor = child();
    monitor.send({ type: "attach", admin: admin(), curve: files("stranger") });
    const error = await monitor.next("curve-error", isCurveError);
    assert.equal(error.cause, "refused");
    assert.match(error.message, /refused the extension's CURVE key/);
    assert.ok(error.message.includes(keys.stranger?.publicKey ?? "?"), "names the refused key");
    assert.match(error.message, /admin allow-list \(--admin-keys\)/);
    assert.ok(!monitor.messages.some(isSnapshot));
  });

  it("reports a server key that is not the broker's", async () => {
    const monitor = child();
    monitor.send({ type: "attach", admin: admin(), curve: files("extension", keys.stranger?.publicKey) });
    const error = await monitor.next("curve-error", isCurveError);
    assert.equal(error.cause, "server-key");
    assert.match(error.message, /ztb\.curve\.serverKey is probably not this broker's public key/);
  });

  it("tells a monitor without CURVE that the broker requires it", async () => {
    const monitor = child();
    monitor.send({ type: "attach", admin: admin() });
    const error = await monitor.next("curve-error", isCurveError);
    assert.equal(error.cause, "needs-curve");
    assert.match(error.message, /requires CURVE: set ztb\.curve\.serverKey and ztb\.curve\.extensionCertificate/);
  });

  it("names the certificate file that cannot be read, in one line", async () => {
    const monitor = child();
    const missing = path.join(dir, "nobody.key_secret");
    monitor.send({ type: "attach", admin: admin(), curve: { ...files("extension"), certificate: missing } });
    const error = await monitor.next("curve-error", isCurveError);
    assert.equal(error.cause, "certificate");
    assert.equal(error.message, `ztb.curve.extensionCertificate ${missing}: no such file or directory`);

    // A public certificate where the secret one belongs is refused too, naming it.
    const again = child();
    again.send({ type: "attach", admin: admin(), curve: { ...files("extension"), certificate: path.join(dir, "extension.key") } });
    const wrong = await again.next("curve-error", isCurveError);
    assert.equal(wrong.cause, "certificate");
    assert.ok(wrong.message.startsWith(`ztb.curve.extensionCertificate ${path.join(dir, "extension.key")}: has no secret-key line`));
    assert.ok(!wrong.message.includes("\n"));
  });
});

describe("Start Broker with ztb.curve settings", () => {
  let dir: string;
  const processes: ChildProcess[] = [];

  /** Runs the compiled `ztb` as the extension does. */
  function run(args: string[]): ChildProcess {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    processes.push(proc);
    return proc;
  }

  /** Runs `ztb`; resolves once it wrote `event` (json logs) to stderr. */
  function ztb(args: string[], event: string): Promise<ChildProcess> {
    const proc = run(args);
    let seen = "";
    return within(
      new Promise((resolve, reject) => {
        proc.stderr?.on("data", (data: Buffer) => {
          seen += data.toString();
          if (seen.includes(`"event":"${event}"`)) resolve(proc);
        });
        proc.once("exit", (code) => reject(new Error(`ztb ${args[0]} exited with ${code}: ${seen}`)));
      }),
      CAP,
      `ztb ${args[0]} ${event}`,
    );
  }

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "ztb-ext-start-"));
  });

  afterEach(async () => {
    for (const proc of processes.splice(0)) {
      if (proc.exitCode !== null || proc.signalCode !== null) continue;
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill("SIGKILL");
      await exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("lets the extension monitor, send to and run test workers on the broker it started, with no allow-list set", async () => {
    await writeKeyPair(path.join(dir, "broker"), generateKeyPair(), false);
    await writeKeyPair(path.join(dir, "extension"), generateKeyPair(), false);
    const own = ownBrokerCurve({
      serverKey: "",
      extensionCertificate: path.join(dir, "extension.key_secret"),
      brokerCertificate: path.join(dir, "broker.key_secret"),
      clientKeys: "",
      workerKeys: "",
      adminKeys: "",
    });
    assert.ok(own);
    const at = (name: string): string => `ipc://${path.join(dir, name)}`;
    const settings = { clients: at("c"), workers: at("w"), answers: at("a"), admin: at("admin"), tries: 0, timeout: 0, heartbeat: 1000, history: 10, dataDirectory: "" };
    await ztb(brokerArgs(settings, own.args), "listening");
    // Not awaited: the request below waits in the broker's queue until this worker got through the handshake.
    run(workerArgs(settings.workers, settings.answers, 0, 1, own.files));

    const monitor = new ChildUnderTest();
    processes.push(monitor.process);
    monitor.send({ type: "attach", admin: settings.admin, curve: own.files });
    await monitor.next("snapshot", isSnapshot);
    monitor.send({ type: "request", id: 7, spec: { endpoint: settings.clients, frames: [Buffer.from("ping").toString("base64")], curve: own.files } });
    const reply = await monitor.next("reply", isReply);
    assert.equal(reply.detail.status, "succeeded");
    assert.equal(reply.detail.worker, "test-1");
    assert.deepEqual(reply.frames, [{ text: "ping" }]);
  });
});
