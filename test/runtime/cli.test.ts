import assert from "node:assert/strict";
import type { BrokerServer } from "../../broker/src/server/broker-server";
import { NonRetryableError, Worker } from "../../broker/src/worker";
import { spread } from "../../broker/src/cli/demo-command";
import { nextStatus, runCli, spawnCli, startBroker } from "./harness";

const ONE_USAGE_LINE = (command: string): RegExp => new RegExp(`^ztb ${command}: [^\\n]+ \\(see ztb ${command} --help\\)\\n$`);

describe("ztb CLI", () => {
  describe("help and usage errors", () => {
    it("--help lists the commands; --version prints the package version", async () => {
      const help = await runCli(["--help"]);
      assert.equal(help.code, 0);
      for (const command of ["broker", "worker", "client", "demo"]) assert.match(help.stdout, new RegExp(`^  ${command} `, "m"));
      const version = await runCli(["--version"]);
      assert.equal(version.code, 0);
      assert.match(version.stdout, /^ztb \d+\.\d+\.\d+\n$/);
    });

    for (const args of [["worker", "--help"], ["client", "--help"], ["client", "send", "--help"], ["demo", "--help"]]) {
      it(`ztb ${args.join(" ")} prints its usage and exits 0`, async () => {
        const run = await runCli(args);
        assert.equal(run.code, 0);
        assert.match(run.stdout, new RegExp(`^Usage: ztb ${args.slice(0, -1).join(" ")} `));
        assert.equal(run.stderr, "");
      });
    }

    it("an unknown command is one line and exit 2", async () => {
      const run = await runCli(["frobnicate"]);
      assert.equal(run.code, 2);
      assert.equal(run.stderr, 'ztb: unknown command "frobnicate" (see ztb --help)\n');
    });

    it("ztb broker --max-memory below what the broker needs idle is one line naming the least that works, and exit 2", async () => {
      const run = await runCli(["broker", "--max-memory", "64M", "tcp://127.0.0.1:0", "tcp://127.0.0.1:0", "tcp://127.0.0.1:0"]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /^ztb broker: --max-memory 64 MiB is too small: the broker uses \d+ MiB before any peer connects and \d+ MiB more under load, which leaves no room for tasks \(give at least \d+M\)\n$/);
    });

    const bad: [string, string[]][] = [
      ["worker", ["worker"]],
      ["worker", ["worker", "--capacity", "0", "tcp://localhost:4162"]],
      ["worker", ["worker", "tcp://localhost:4162", "tcp://localhost:4163", "1.5"]],
      ["worker", ["worker", "--legacy", "tcp://localhost:4162"]],
      ["worker", ["worker", "--frob", "tcp://localhost:4162"]],
      ["worker", ["worker", "not-an-endpoint"]],
      ["worker", ["worker", "tcp://localhost"]],
      ["client", ["client", "-n", "x", "tcp://localhost:4161"]],
      ["client", ["client", "--timeout", "5", "tcp://localhost:4161"]],
      ["client send", ["client", "send", "--attempts", "0", "tcp://localhost:4161", "x"]],
      ["client send", ["client", "send"]],
    ];
    for (const [command, args] of bad) {
      it(`ztb ${args.join(" ")} is one usage line and exit 2`, async () => {
        const run = await runCli(args);
        assert.equal(run.code, 2);
        assert.match(run.stderr, ONE_USAGE_LINE(command));
        assert.equal(run.stdout, "");
      });
    }
  });

  describe("against a live broker", () => {
    let server: BrokerServer;
    let clients: string;
    const workers: Worker[] = [];

    before(async () => {
      const broker = await startBroker({ tries: 2, timeout: 5000 });
      server = broker.server;
      clients = broker.endpoints.clients;
      const echo = new Worker({ endpoint: broker.endpoints.workers, name: "echo", heartbeat: 100, handler: async (t) => t.payload });
      const refuser = new Worker({
        endpoint: broker.endpoints.workers,
        name: "refuser",
        services: ["refuse"],
        heartbeat: 100,
        handler: async () => {
          throw new NonRetryableError("no thanks");
        },
      });
      workers.push(echo, refuser);
      const ready = workers.map((worker) => nextStatus(worker, "ready"));
      for (const worker of workers) worker.start();
      await Promise.all(ready);
    });

    after(async () => {
      for (const worker of workers) await worker.close();
      await server.close();
    });

    it("ztb client send prints the echoed payload frames and exits 0", async () => {
      const run = await runCli(["client", "send", clients, "hello", "world"]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "hello\nworld\n");
      assert.match(run.stderr, /^succeeded \(task \S+, worker echo, 1 attempt, \d+ ms\)\n$/);
    });

    it("ztb client send reads the payload from stdin and shows binary frames as hex", async () => {
      const run = await runCli(["client", "send", clients], "\x00\x01binary");
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "0x0001" + Buffer.from("binary").toString("hex") + "\n");
    });

    it("ztb client send exits 1 on a failure reply and names the reason", async () => {
      const run = await runCli(["client", "send", "--service", "refuse", clients, "x"]);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^failed: worker-failed \(no thanks\)/);
    });

    it("ztb client send exits 1 with expired, saying that no worker serves the service, when its deadline passes", async () => {
      const run = await runCli(["client", "send", "--service", "nobody", "--deadline", "300ms", clients, "x"]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^failed: expired \(no worker serves "nobody": the deadline passed after \d+ ms in the queue\) \(task \S+, 0 attempts, \d+ ms\)\n$/);
    });

    it("ztb client send --limits prints the broker's limits as JSON", async () => {
      const run = await runCli(["client", "send", "--limits", clients]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), {
        timeout: 5000,
        attempts: 2,
        deadline: null,
        maxQueue: null,
        keepResults: 600_000,
        maxMessage: 1024 * 1024,
        maxFrames: 256,
      });
    });

    it("ztb client (the prototype's test client) gets every answer and exits 0", async () => {
      const run = await runCli(["client", "-n", "2", "--count", "5", clients]);
      assert.equal(run.code, 0, run.stderr);
      for (let i = 1; i <= 10; i++) assert.match(run.stdout, new RegExp(`^request ${i} -> request ${i}$`, "m"));
      assert.match(run.stdout, /^summary: 10 sent, 10 answered \(10 succeeded, 0 failed\), 0 duplicates, 0 lost, /m);
    });
  });

  it("ztb client send exits 3 when no reply comes before the deadline", async () => {
    const run = await runCli(["client", "send", "--deadline", "100", "tcp://127.0.0.1:9", "x"]);
    assert.equal(run.code, 3);
    // The request's deadline is 100 ms; the client waits 1 s more for the broker's expired reply.
    assert.match(run.stderr, /no reply from tcp:\/\/127\.0\.0\.1:9 within 1100 ms/);
  });

  describe("ztb worker --poison (the demo's visible failures)", () => {
    it("a poison request is dropped by the worker at every attempt and fails; the others are answered", async () => {
      const broker = await startBroker({ tries: 2, timeout: 200 });
      const worker = spawnCli(["worker", "--name", "w", "--poison", "request 2", broker.endpoints.workers]);
      try {
        await worker.line(/ready/);
        const run = await runCli(["client", "--enveloped", "--count", "3", broker.endpoints.clients]);
        assert.match(run.stdout, /^request 1 -> request 1 \(worker w, attempt 1, /m);
        assert.match(run.stdout, /^request 2 -> failed: timeout after 2 attempts \(attempt 2 timed out after \d+ ms on worker w\)$/m);
        assert.match(run.stdout, /^request 3 -> request 3 \(worker w, attempt 1, /m);
        assert.match(run.stdout, /^summary: 3 sent, 3 answered \(2 succeeded, 1 failed: timeout 1\)/m);
        assert.equal(run.code, 0, run.stderr);
        for (const attempt of [1, 2]) await worker.line(new RegExp(`dropping task \\S+ attempt ${attempt}/2 \\(poison: every worker drops it\\)`));
      } finally {
        worker.child.kill("SIGKILL");
        await worker.exited;
        await broker.server.close();
      }
    });

    it("the demo spreads its poison requests over the run", () => {
      assert.deepEqual(spread(2, 300), [100, 200]);
      assert.deepEqual(spread(0, 300), []);
      assert.deepEqual(spread(3, 2), [1, 2]);
    });
  });
});
