/**
 * `ztb status`: a real broker (durable, with a worker, queued tasks for a service nobody serves) read through its
 * admin endpoint by the CLI as a child process: the tables, --json, and one line with exit 3 when nobody answers.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, spawnBroker } from "../chaos/broker-process";
import { runCli } from "./harness";

describe("cli: ztb status", function () {
  this.timeout(30_000);
  let broker: BrokerProcess;
  let dir: string;
  const closers: (() => unknown)[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-status-"));
    broker = await spawnBroker(["--data", dir, "-t", "3", "--log-level", "error"]);
    const worker = new Worker({ endpoint: broker.endpoints.workers, name: "resizer-1", services: ["resize"], capacity: 2, handler: async (t) => t.payload });
    worker.start();
    closers.push(() => worker.close());
    const client = new Client({ endpoint: broker.endpoints.clients, deadline: 10_000 });
    closers.push(() => client.close());
    await client.request(["a"], { service: "resize" });
    for (let i = 0; i < 3; i++) void client.request([`waits ${i}`], { service: "nobody" }).catch(() => undefined);
  });
  after(async () => {
    for (const close of closers.splice(0)) await close();
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("prints the broker, its workers and its services' queues as tables", async () => {
    let run = await runCli(["status", broker.endpoints.admin]);
    for (let i = 0; i < 50 && !/nobody\s+3\s+0/.test(run.stdout); i++) run = await runCli(["status", broker.endpoints.admin]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^broker {4}running, durable \(fsync always\), ztb \S+, up .*; tries 3, timeout unlimited$/m);
    assert.match(run.stdout, /^tasks {5}3 queued, 0 running; since start 1 succeeded, 0 failed, 0 cancelled \(4 requests/m);
    assert.match(run.stdout, /^WORKER +NAME +KIND +STATE +SERVICES +HELD +DONE +FAILED +LAST SEEN$/m);
    assert.match(run.stdout, /^w1 +resizer-1 +modern +idle +resize +0\/2 +1 +0 +[\d.]+ (ms|s) ago$/m);
    assert.match(run.stdout, /^SERVICE +QUEUED +WORKERS$/m);
    assert.match(run.stdout, /^resize +0 +1$/m);
    assert.match(run.stdout, /^nobody +3 +0$/m);
  });

  it("prints the SNAPSHOT as JSON with --json", async () => {
    const run = await runCli(["status", "--json", broker.endpoints.admin]);
    assert.equal(run.code, 0);
    const snapshot = JSON.parse(run.stdout) as { broker: { durable: boolean }; workers: { name: string }[] };
    assert.equal(snapshot.broker.durable, true);
    assert.deepEqual(snapshot.workers.map((w) => w.name), ["resizer-1"]);
  });

  it("says in one line, exit 3, when nobody answers", async () => {
    const run = await runCli(["status", "--timeout", "300ms", "tcp://127.0.0.1:9"]);
    assert.equal(run.code, 3);
    assert.equal(run.stderr, "ztb status: no answer from tcp://127.0.0.1:9 within 300 ms (is a broker running with that --admin?)\n");
    assert.equal(run.stdout, "");
  });
});
