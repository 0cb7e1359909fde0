/**
 * `ztb client` and `ztb client send` given several CLIENTS endpoints (protocol/spec.md §Failing over): real broker
 * processes, the real CLI as a child process.
 */
import assert from "node:assert/strict";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, spawnBroker } from "../chaos/broker-process";
import { counters, deadEndpoint, until } from "./brokers";
import type { LoadSummary } from "../../broker/src/cli/load-stats";
import { runCli } from "../runtime/harness";

const ARGS = ["--heartbeat", "200", "--log-level", "error"];

describe("reliability: ztb client with several CLIENTS endpoints", function () {
  this.timeout(60_000);
  const brokers: BrokerProcess[] = [];
  const closers: (() => unknown)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    for (const broker of brokers.splice(0)) await broker.stop();
  });

  async function brokerWithWorker(name: string, hold: () => boolean = () => false): Promise<BrokerProcess> {
    const b = await spawnBroker(ARGS);
    brokers.push(b);
    const w = new Worker({
      endpoint: b.endpoints.workers,
      name,
      capacity: 4,
      heartbeat: 200,
      handler: async (task) => {
        if (hold()) await new Promise((_, reject) => task.signal.addEventListener("abort", () => reject(task.signal.reason)));
        return task.payload;
      },
    });
    w.start();
    closers.push(() => w.close());
    await until(`${name} registered`, async () => (await counters(b)).workers === 1);
    return b;
  }

  it("client send: a dead first broker is skipped, the reply comes from the next", async () => {
    const b = await brokerWithWorker("on-b");
    const run = await runCli(["client", "send", `${await deadEndpoint()},${b.endpoints.clients}`, "hello"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "hello\n");
    assert.match(run.stderr, /client-failover .*reason=refused/);
    assert.match(run.stderr, /succeeded \(.*worker on-b/);
  });

  it("load mode: SIGKILL of the first broker mid-run loses nothing and answers nothing twice", async () => {
    const a = await brokerWithWorker("on-a", () => true);
    const b = await brokerWithWorker("on-b");
    const clients = 3;
    const count = 10;
    const run = runCli(["client", "--enveloped", "-n", String(clients), "--count", String(count), "--quiet", "--summary-json", `${a.endpoints.clients},${b.endpoints.clients}`]);
    await until("each client's first request is held at A", async () => (await counters(a)).requests === clients);
    a.child.kill("SIGKILL");
    const done = await run;
    assert.equal(done.code, 0, done.stderr);
    const { summary } = JSON.parse(done.stdout) as { summary: LoadSummary };
    assert.deepEqual(
      { replies: summary.replies, succeeded: summary.succeeded, lost: summary.lost, duplicates: summary.duplicates, mismatched: summary.mismatched },
      { replies: clients * count, succeeded: clients * count, lost: 0, duplicates: 0, mismatched: 0 },
    );
    assert.equal((await counters(b)).requests, clients * count, "B ran every request once");
    assert.equal(done.stderr.match(/client-failover/g)?.length, clients, `one failover per client:\n${done.stderr}`);
  });

  it("usage errors: plain mode with several endpoints, an endpoint named twice", async () => {
    const plain = await runCli(["client", "tcp://127.0.0.1:1,tcp://127.0.0.1:2"]);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /several CLIENTS endpoints need --enveloped/);
    const twice = await runCli(["client", "send", "tcp://127.0.0.1:1,tcp://127.0.0.1:1", "x"]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /listed twice/);
  });
});
