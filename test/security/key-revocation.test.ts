/**
 * Revoking a key cuts its connections (issue 14 #5, protocol/spec.md §Security): after a reload that removes a
 * worker's and a client's key, the worker gets no more tasks and its tasks go back to the queue, the client's pending
 * task is cancelled and nothing it sends is served, while the peers whose keys stay keep being served.
 */
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Dealer, Push } from "zeromq";
import { Client } from "../../broker/src/client";
import type { CurveKeyPair, PeerKeys } from "../../broker/src/security";
import { BrokerSecurity, applyClientSecurity, generateKeyPair, writeKeyPair } from "../../broker/src/security";
import { Worker } from "../../broker/src/worker";
import { spawnBroker } from "../chaos/broker-process";
import { adminCall, json, ready, type RunningBroker, startBroker } from "../server/harness";
import { text, within } from "./curve-helpers";

const CAP = 10_000;

interface TaskView {
  id: string;
  state: string;
  message?: string;
}

describe("revoking a key at reload (SIGHUP)", () => {
  let dir: string;
  let broker: RunningBroker;
  let security: BrokerSecurity;
  const closers: (() => Promise<void> | void)[] = [];
  const keys: Record<string, CurveKeyPair> = {};
  const peerKeys = (name: string): PeerKeys => ({ ...(keys[name] as CurveKeyPair), serverKey: security.publicKey });
  const writeList = (file: string, names: string[]) =>
    fs.writeFile(path.join(dir, file), names.map((n) => `${keys[n]?.publicKey} # ${n}\n`).join(""));

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "ztb-revoke-"));
    for (const name of ["broker", "worker", "black-hole", "client", "revoked-client", "admin"]) keys[name] = generateKeyPair();
    await writeKeyPair(path.join(dir, "broker"), keys.broker as CurveKeyPair, false);
    await writeList("workers.txt", ["worker", "black-hole"]);
    await writeList("clients.txt", ["client", "revoked-client"]);
    await writeList("admins.txt", ["admin"]);
    security = await BrokerSecurity.load({
      curveSecret: path.join(dir, "broker.key_secret"),
      workerKeys: path.join(dir, "workers.txt"),
      clientKeys: path.join(dir, "clients.txt"),
      adminKeys: path.join(dir, "admins.txt"),
    });
    await security.start();
    broker = await startBroker({ security });
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await broker.stop();
    await security.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  function dealer(name: string, endpoint: string): Dealer {
    const socket = new Dealer({ linger: 0, receiveTimeout: CAP });
    applyClientSecurity(socket, peerKeys(name));
    socket.connect(endpoint);
    closers.push(() => socket.close());
    return socket;
  }

  async function tasks(admin: Dealer): Promise<TaskView[]> {
    const reply = await adminCall(admin, "SNAPSHOT", { tasks: { limit: 500 } });
    if (reply[2]?.toString() !== "SNAPSHOT") throw new Error(reply.map((f) => f.toString()).join(" | "));
    return (json(reply[3]).tasks as { items: TaskView[] }).items;
  }

  /** Polls SNAPSHOT until `check` holds (a condition, not a delay). */
  async function until(admin: Dealer, what: string, check: (all: TaskView[]) => boolean): Promise<TaskView[]> {
    const deadline = Date.now() + CAP;
    for (;;) {
      const all = await tasks(admin);
      if (check(all)) return all;
      if (Date.now() > deadline) throw new Error(`${what}: not reached; tasks ${JSON.stringify(all)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("stops serving the revoked worker and client, and re-queues the worker's tasks", async () => {
    const endpoints = broker.endpoints;
    const admin = dealer("admin", endpoints.admin ?? "");
    // A worker that takes tasks and never answers: before the fix it kept them (and got new ones) after its revocation.
    const blackHole = dealer("black-hole", endpoints.workers);
    await ready(blackHole, "black-hole", { capacity: 10 });

    const good = new Client({ endpoint: endpoints.clients, deadline: CAP, curve: peerKeys("client") });
    const revoked = new Client({ endpoint: endpoints.clients, deadline: CAP, curve: peerKeys("revoked-client") });
    closers.push(() => good.close(), () => revoked.close());
    const answered = good.request("kept");
    const abandoned = revoked.request("revoked").catch((err: unknown) => err);
    await until(admin, "both tasks running on the black hole", (all) => all.filter((t) => t.state === "running").length === 2);

    await writeList("workers.txt", ["worker"]);
    await writeList("clients.txt", ["client"]);
    assert.deepEqual(await broker.server.reloadKeys(), { client: 1, worker: 1, admin: 1 });

    // The good client's task went back to the queue: a worker whose key stays answers it.
    const worker = new Worker({
      endpoint: endpoints.workers,
      name: "worker",
      handler: async (task) => [Buffer.from("done:"), ...task.payload],
      curve: peerKeys("worker"),
    });
    worker.start();
    closers.push(() => worker.close());
    const reply = await within(answered, CAP, "the kept client's reply");
    assert.equal(reply.status, "succeeded");
    assert.deepEqual(text(reply.payload), ["done:", "kept"]);
    assert.equal(reply.worker, "worker");

    // The revoked client's task was cancelled, saying why; its client is sent nothing.
    const all = await until(admin, "the revoked client's task cancelled", (list) => list.some((t) => t.state === "cancelled"));
    const cancelled = all.find((t) => t.state === "cancelled");
    assert.equal(cancelled?.message, "the client's CURVE key was revoked");

    // What the revoked peers send now is dropped on arrival: a request, and the black hole's late READY.
    const before = broker.server.revokedDropped;
    void revoked.request("after").catch(() => undefined);
    await blackHole.send(["", "ZTBW01", "READY", JSON.stringify({ name: "black-hole", capacity: 10, heartbeat: 1000 })]);
    const deadline = Date.now() + CAP;
    while (broker.server.revokedDropped < before + 2) {
      assert.ok(Date.now() < deadline, `dropped ${broker.server.revokedDropped - before} of 2 messages`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const snapshot = json((await adminCall(admin, "SNAPSHOT", {}))[3]) as { workers: { name: string }[]; counters: { requests: number } };
    assert.deepEqual(snapshot.workers.map((w) => w.name), ["worker"]);
    assert.equal(snapshot.counters.requests, 2, "the revoked client's later request never became a task");

    const logged = broker.logs.filter((line) => line.includes(`"event":"key-revoked"`));
    assert.equal(logged.length, 2, logged.join("\n"));
    assert.ok(logged.some((line) => line.includes(keys["black-hole"]?.publicKey ?? "?")));
    assert.ok(logged.some((line) => line.includes(keys["revoked-client"]?.publicKey ?? "?")));
    await revoked.close();
    assert.ok(await abandoned, "the revoked client's pending request ends when its client closes");
  });

  it("re-binds the answers endpoint when a key that connected there is revoked, so that key is refused", async () => {
    const answersPeers = (): number => broker.server.readCore()?.connections.answers?.peers ?? -1;
    const waitFor = async (what: string, check: () => boolean): Promise<void> => {
      const deadline = Date.now() + CAP;
      while (!check()) {
        assert.ok(Date.now() < deadline, what);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const push = new Push({ linger: 0, reconnectInterval: 50 });
    applyClientSecurity(push, peerKeys("black-hole"));
    push.connect(broker.endpoints.answers);
    closers.push(() => push.close());
    await waitFor("the legacy worker's PUSH connected", () => answersPeers() === 1);
    const allowedBefore = security.stats.allowed;

    await writeList("workers.txt", ["worker"]);
    await broker.server.reloadKeys();
    assert.ok(broker.logs.some((line) => line.includes(`"event":"answers-rebound"`)), broker.logs.join("\n"));
    // The PUSH reconnects on its own and ZAP refuses it now; nothing was allowed in between.
    await waitFor("the revoked PUSH refused", () => (security.stats.refusedByDomain.answers ?? 0) >= 1);
    assert.equal(answersPeers(), 0);
    assert.equal(security.stats.allowed, allowedBefore);
  });

  it("keeps serving everyone when a reload removes no key", async () => {
    const endpoints = broker.endpoints;
    const worker = new Worker({
      endpoint: endpoints.workers,
      name: "worker",
      handler: async (task) => task.payload,
      curve: peerKeys("worker"),
    });
    worker.start();
    closers.push(() => worker.close());
    const client = new Client({ endpoint: endpoints.clients, deadline: CAP, curve: peerKeys("client") });
    closers.push(() => client.close());
    assert.equal((await within(client.request("one"), CAP, "first")).status, "succeeded");
    await writeList("workers.txt", ["worker", "black-hole", "admin"]);
    await broker.server.reloadKeys();
    assert.equal((await within(client.request("two"), CAP, "after the reload")).status, "succeeded");
    assert.equal(broker.server.revokedDropped, 0);
    assert.equal(broker.logs.filter((line) => line.includes(`"event":"key-revoked"`)).length, 0);
  });

  it("ztb broker does it on SIGHUP: the revoked worker is lost and logged", async function () {
    this.timeout(30_000);
    const cli = await spawnBroker([
      "--log-level",
      "info",
      "--curve-secret",
      path.join(dir, "broker.key_secret"),
      "--worker-keys",
      path.join(dir, "workers.txt"),
      "--client-keys",
      path.join(dir, "clients.txt"),
      "--admin-keys",
      path.join(dir, "admins.txt"),
    ]);
    closers.push(() => void cli.stop());
    const serverKey = security.publicKey;
    const curve = (name: string): PeerKeys => ({ ...(keys[name] as CurveKeyPair), serverKey });
    // The CLI loads the same broker.key_secret as `security`: the peers use its public key.
    const worker = new Worker({ endpoint: cli.endpoints.workers, name: "black-hole", handler: async (t) => t.payload, curve: curve("black-hole") });
    worker.start();
    closers.push(() => worker.close());
    const client = new Client({ endpoint: cli.endpoints.clients, deadline: CAP, curve: curve("client") });
    closers.push(() => client.close());
    assert.equal((await within(client.request("before"), CAP, "served before the reload")).worker, "black-hole");

    await writeList("workers.txt", ["worker"]);
    cli.child.kill("SIGHUP");
    const deadline = Date.now() + CAP;
    while ((cli.events.get("key-revoked") ?? 0) === 0 || (cli.events.get("worker-lost") ?? 0) === 0) {
      assert.ok(Date.now() < deadline, cli.recent.join("\n"));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(cli.events.get("keys-reloaded"), 1);
    assert.ok(cli.recent.some((line) => line.includes(`"event":"key-revoked"`) && line.includes(keys["black-hole"]?.publicKey ?? "?")));
  });
});
