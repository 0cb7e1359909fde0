/**
 * The real `ztb broker` process (out/broker/src/cli/main.js): help, one-line usage errors with exit code 2, a port
 * already in use, the start-up lines, serving, and a graceful SIGINT.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { Router } from "zeromq";
import { collectOutput, type CliRun } from "../runtime/child-output";
import { json, Peers, texts } from "./harness";

const MAIN = join(__dirname, "../../broker/src/cli/main.js");

function collect(child: ChildProcess): { stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { stdout: () => stdout, stderr: () => stderr, exited };
}

function ztbBroker(args: string[]): Promise<CliRun> {
  return collectOutput(spawn(process.execPath, [MAIN, "broker", ...args], { stdio: ["ignore", "pipe", "pipe"] }));
}

/** Starts a broker and resolves once it has printed `lines` lines on stderr. */
async function runningBroker(args: string[], lines: number) {
  const child = spawn(process.execPath, [MAIN, "broker", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const output = collect(child);
  const deadline = Date.now() + 10_000;
  while (output.stderr().split("\n").length <= lines) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`broker did not start: ${output.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { child, output, lines: output.stderr().split("\n").slice(0, lines) };
}

const LOOPBACK = ["tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "--admin", "tcp://127.0.0.1:*"];

describe("cli: ztb broker", function () {
  this.timeout(20_000);
  const peers = new Peers();
  const children: ChildProcess[] = [];
  afterEach(() => {
    peers.closeAll();
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("--help prints the usage with the prototype's example and exits 0", async () => {
    const result = await ztbBroker(["--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: ztb broker /);
    assert.ok(result.stdout.includes(`ztb broker -t 3 -T 2 "tcp://*:4161" "tcp://*:4162" "tcp://*:4163"`));
    assert.equal(result.stderr, "");
  });

  for (const [args, expected] of [
    [["-t", "0", "tcp://*:1", "tcp://*:2", "tcp://*:3"], /-t must be an integer >= 1, not "0"/],
    [["-T", "soon", "tcp://*:1", "tcp://*:2", "tcp://*:3"], /-T must be a positive number of seconds/],
    [["--bogus", "tcp://*:1", "tcp://*:2", "tcp://*:3"], /unknown option --bogus/],
    [["tcp://*:1", "tcp://*:2"], /expected 3 endpoints CLIENTS WORKERS ANSWERS, got 2/],
    [["--log-level", "loud", "tcp://*:1", "tcp://*:2", "tcp://*:3"], /--log-level must be one of debug, info, warn, error/],
    [["--admin", "tcp://127.0.0.1:1", "--no-admin", "tcp://*:1", "tcp://*:2", "tcp://*:3"], /cannot be used together/],
  ] as const) {
    it(`rejects ${args.join(" ")} in one line with exit code 2`, async () => {
      const result = await ztbBroker([...args]);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, "");
      const lines = result.stderr.split("\n");
      assert.equal(lines.length, 2, `one line: ${result.stderr}`);
      assert.match(lines[0] ?? "", /^ztb broker: .+ \(see ztb broker --help\)$/);
      assert.match(lines[0] ?? "", expected);
    });
  }

  it("reports a port already in use in one line with exit code 2", async () => {
    const squatter = new Router({ linger: 0 });
    await squatter.bind("tcp://127.0.0.1:*");
    const taken = squatter.lastEndpoint ?? "";
    try {
      const result = await ztbBroker(["tcp://127.0.0.1:*", taken, "tcp://127.0.0.1:*", "--no-admin"]);
      assert.equal(result.code, 2);
      assert.equal(result.stderr, `ztb broker: cannot bind workers endpoint ${taken}: address already in use\n`);
    } finally {
      squatter.close();
    }
  });

  it("reports an unknown transport in one line with exit code 2", async () => {
    const result = await ztbBroker(["udpx://127.0.0.1:1", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "--no-admin"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^ztb broker: cannot bind clients endpoint udpx:\/\/127\.0\.0\.1:1: unsupported transport .*\n$/);
  });

  it("says where it listens, serves the prototype's peers, and on SIGINT answers pending clients and exits 0", async () => {
    const { child, output, lines } = await runningBroker(["-t", "3", "-T", "0.5", ...LOOPBACK], 1);
    children.push(child);
    const match = /^ztb broker: clients (\S+), workers (\S+), answers (\S+), admin (\S+) \(tries 3, timeout 0\.5s; in memory\)$/.exec(
      lines[0] ?? "",
    );
    assert.ok(match, `start line: ${lines[0]}`);
    const [, clients = "", workers = "", answers = ""] = match;

    const worker = peers.request(workers);
    const push = peers.push(answers);
    const client = peers.request(clients);
    await worker.send("requesting task");
    await client.send("hi");
    const [task, payload] = await worker.receive();
    await push.send([task ?? "", `${payload?.toString()} back`]);
    assert.deepEqual(texts(await client.receive()), ["hi back"]);

    await client.send("left pending"); // the worker does not ask again: nobody will run it
    await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill("SIGINT");
    assert.deepEqual(texts(await client.receive()), [""], "plain failure at shutdown");
    assert.equal(await output.exited, 0);
    // After the start line only structured log lines (the core logs the task failed by the shutdown), no trace.
    for (const line of output.stderr().split("\n").slice(1, -1)) {
      assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z (debug|info |warn |error) [a-z-]+( |$)/);
    }
  });

  it("a second SIGINT during the grace period exits at once with code 130", async () => {
    const { child, output, lines } = await runningBroker(["--grace", "20000", ...LOOPBACK], 1);
    children.push(child);
    const [, clients = "", workers = "", , admin = ""] =
      /clients (\S+), workers (\S+), answers (\S+), admin (\S+)/.exec(lines[0] ?? "") ?? [];
    const worker = peers.request(workers);
    const client = peers.request(clients);
    await worker.send("requesting task");
    await client.send("long");
    await worker.receive(); // running: the first SIGINT gives it 20 s

    child.kill("SIGINT");
    const monitor = peers.dealer(admin);
    let state = "running";
    for (let i = 0; i < 100 && state === "running"; i++) {
      await monitor.send(["", "ZTBA01", "SNAPSHOT", "{}"]);
      state = String((json((await monitor.receive())[3]).broker as Record<string, unknown>).state);
    }
    assert.notEqual(state, "running", "the first SIGINT started the graceful stop");
    const second = Date.now();
    child.kill("SIGINT");
    assert.equal(await output.exited, 130);
    assert.ok(Date.now() - second < 2000, `exited ${Date.now() - second} ms after the second SIGINT`);
  });

  it("in json format, the start line is a JSON log line; non-loopback endpoints get a warning", async () => {
    const { child, lines } = await runningBroker(
      ["--log-format", "json", "tcp://*:*", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "--admin", "tcp://127.0.0.1:*"],
      2,
    );
    children.push(child);
    const start = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    assert.equal(start.event, "listening");
    assert.equal(start.level, "info");
    assert.equal(typeof start.time, "string");
    assert.match(String(start.clients), /^tcp:\/\/0\.0\.0\.0:\d+$/);
    assert.equal(start.tries, null);
    const warning = JSON.parse(lines[1] ?? "") as Record<string, unknown>;
    assert.equal(warning.level, "warn");
    assert.match(String(warning.message), /clients tcp:\/\/\*:\* accept connections from other hosts/);
    assert.match(String(warning.message), /unauthenticated/);
    assert.match(String(warning.message), /admin endpoint tcp:\/\/127\.0\.0\.1:\* is loopback-only/);
    child.kill("SIGTERM");
  });
});
