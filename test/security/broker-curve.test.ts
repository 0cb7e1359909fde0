import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Dealer } from "zeromq";
import { Client, ClientTimeoutError } from "../../broker/src/client";
import type { CurveKeyPair, PeerKeys, ZapRefusal } from "../../broker/src/security";
import { BrokerSecurity, applyClientSecurity, generateKeyPair, writeKeyPair } from "../../broker/src/security";
import type { BrokerServer } from "../../broker/src/server/broker-server";
import { Worker } from "../../broker/src/worker";
import { startBroker } from "../server/harness";
import { text, within } from "./curve-helpers";

const CAP = 3000;

describe("a broker with CURVE on", () => {
  let dir: string;
  let server: BrokerServer;
  let security: BrokerSecurity;
  let refusals: ZapRefusal[];
  let onRefusal: (() => void) | undefined;
  const closers: (() => Promise<void> | void)[] = [];
  const keys: Record<string, CurveKeyPair> = {};

  /** Resolves at the broker's first refusal of `key`. */
  function refusalOf(key: string): Promise<ZapRefusal> {
    return new Promise((resolve) => {
      const check = () => {
        const found = refusals.find((r) => r.key === key);
        if (found !== undefined) resolve(found);
        else onRefusal = check;
      };
      check();
    });
  }

  const peerKeys = (name: string): PeerKeys => ({ ...(keys[name] as CurveKeyPair), serverKey: security.publicKey });

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "ztb-curve-"));
    for (const name of ["broker", "worker", "client", "admin", "intruder-worker", "intruder-client"]) {
      keys[name] = generateKeyPair();
    }
    // Allow-lists as an operator writes them: a directory of public certificates, and a list file.
    await fs.mkdir(path.join(dir, "workers"));
    await writeKeyPair(path.join(dir, "broker"), keys.broker as CurveKeyPair, false);
    await writeKeyPair(path.join(dir, "workers", "worker"), keys.worker as CurveKeyPair, false);
    await fs.writeFile(path.join(dir, "clients.txt"), `${keys.client?.publicKey} # the app\n`);
    await fs.writeFile(path.join(dir, "admins.txt"), `${keys.admin?.publicKey} # ops\n`);

    refusals = [];
    security = await BrokerSecurity.load(
      {
        curveSecret: path.join(dir, "broker.key_secret"),
        workerKeys: path.join(dir, "workers"),
        clientKeys: path.join(dir, "clients.txt"),
        adminKeys: path.join(dir, "admins.txt"),
      },
      {
        onRefusal: (refusal) => {
          refusals.push(refusal);
          onRefusal?.();
        },
      },
    );
    await security.start();
    // The shared server harness, with CURVE on every socket: only `security` differs from the other broker tests.
    server = (await startBroker({ security })).server;
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await server.close();
    await security.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  function worker(name: string): Worker {
    const w = new Worker({
      endpoint: server.endpoints?.workers ?? "",
      name,
      handler: async (task) => [Buffer.from("done:"), ...task.payload],
      curve: peerKeys(name),
    });
    w.start();
    closers.push(() => w.close());
    return w;
  }

  function client(name: string): Client {
    const c = new Client({ endpoint: server.endpoints?.clients ?? "", deadline: 2000, curve: peerKeys(name) });
    closers.push(() => c.close());
    return c;
  }

  async function snapshot(): Promise<{ workers: { name: string }[]; counters: { requests: number } }> {
    const monitor = new Dealer({ linger: 0, receiveTimeout: CAP });
    closers.push(() => monitor.close());
    applyClientSecurity(monitor, peerKeys("admin"));
    monitor.connect(server.endpoints?.admin ?? "");
    await monitor.send(["", "ZTBA01", "SNAPSHOT", "{}"]);
    for (;;) {
      const frames = await monitor.receive();
      if (frames[2]?.toString() === "SNAPSHOT") return JSON.parse(frames[3]?.toString() ?? "{}");
    }
  }

  it("serves an authorised worker and client, and refuses an unauthorised worker and client", async () => {
    worker("worker");
    const reply = await within(client("client").request("job-1"), CAP, "authorised round trip");
    assert.equal(reply.status, "succeeded");
    assert.deepEqual(text(reply.payload), ["done:", "job-1"]);

    // An unknown worker is refused at the handshake: it never registers and gets no task.
    worker("intruder-worker");
    assert.equal((await within(refusalOf(keys["intruder-worker"]?.publicKey ?? ""), CAP, "worker refusal")).domain, "workers");

    // An unknown client is refused too: its request never reaches the broker and times out client-side.
    const intruder = new Client({ endpoint: server.endpoints?.clients ?? "", deadline: 100, curve: peerKeys("intruder-client") });
    closers.push(() => intruder.close());
    const refused = refusalOf(keys["intruder-client"]?.publicKey ?? "");
    await assert.rejects(intruder.request("let me in"), ClientTimeoutError);
    assert.equal((await within(refused, CAP, "client refusal")).domain, "clients");

    const seen = await snapshot();
    assert.deepEqual(seen.workers.map((w) => w.name), ["worker"]);
    assert.equal(seen.counters.requests, 1, "only the authorised request was accepted");
    assert.ok(security.stats.refused >= 2);
  });

  it("refuses a monitor without an admin key", async () => {
    const refused = refusalOf(keys.client?.publicKey ?? "");
    const monitor = new Dealer({ linger: 0 });
    closers.push(() => monitor.close());
    applyClientSecurity(monitor, peerKeys("client"));
    monitor.connect(server.endpoints?.admin ?? "");
    void monitor.send(["", "ZTBA01", "SNAPSHOT", "{}"]).catch(() => undefined);
    assert.equal((await within(refused, CAP, "monitor refusal")).domain, "admin");
    assert.equal((await snapshot()).workers.length, 0, "an admin key still works");
  });
});
