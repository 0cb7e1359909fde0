import assert from "node:assert/strict";
import { brokerArgs, connectAddress, parseLogLine, workerArgs, ztbLaunch } from "../../extension/src/broker/launch";

describe("extension ztb launch", () => {
  const settings = {
    clients: "tcp://127.0.0.1:4161",
    workers: "tcp://127.0.0.1:4162",
    answers: "tcp://127.0.0.1:4163",
    admin: "tcp://127.0.0.1:4164",
    tries: 3,
    timeout: 2,
    heartbeat: 1000,
    history: 500,
    dataDirectory: "",
  };

  it("runs the bundled CLI with the host's runtime as Node", () => {
    const launch = ztbLaunch("/vscode/electron", "/ext/out/broker/src/cli/main.js", "", ["broker"]);
    assert.deepEqual(launch, { command: "/vscode/electron", args: ["/ext/out/broker/src/cli/main.js", "broker"], env: { ELECTRON_RUN_AS_NODE: "1" } });
    assert.equal(ztbLaunch("/e", "/b.js", "/opt/ztb/main.js", []).args[0], "/opt/ztb/main.js");
    assert.deepEqual(ztbLaunch("/e", "/b.js", "/usr/local/bin/ztb", ["worker"]), { command: "/usr/local/bin/ztb", args: ["worker"], env: {} });
  });

  it("passes the settings as ztb broker arguments", () => {
    assert.deepEqual(brokerArgs(settings), [
      "broker", "-t", "3", "-T", "2", "--admin", "tcp://127.0.0.1:4164", "--heartbeat", "1000", "--history", "500",
      "--grace", "1000", "--log-level", "info", "--log-format", "json",
      "tcp://127.0.0.1:4161", "tcp://127.0.0.1:4162", "tcp://127.0.0.1:4163",
    ]);
    const unlimited = brokerArgs({ ...settings, tries: 0, timeout: 0 });
    assert.ok(!unlimited.includes("-t") && !unlimited.includes("-T"));
  });

  it("makes the broker durable with --data when a data directory is set", () => {
    const args = brokerArgs({ ...settings, dataDirectory: "/work/project/.ztb-data" });
    const at = args.indexOf("--data");
    assert.ok(at > 0, "--data is passed");
    assert.equal(args[at + 1], "/work/project/.ztb-data");
    assert.deepEqual(args.slice(-3), ["tcp://127.0.0.1:4161", "tcp://127.0.0.1:4162", "tcp://127.0.0.1:4163"]);
    assert.ok(!brokerArgs(settings).includes("--data"), "an empty setting keeps the broker in memory");
  });

  it("passes test worker arguments with the drop fraction", () => {
    assert.deepEqual(workerArgs("tcp://w", "tcp://a", 0.1, 2), ["worker", "tcp://w", "tcp://a", "0.1", "--name", "test-2", "--poison", "poison", "--quiet", "--log-format", "json"]);
  });

  it("turns bind addresses into connect addresses", () => {
    assert.equal(connectAddress("tcp://*:4161"), "tcp://127.0.0.1:4161");
    assert.equal(connectAddress("tcp://0.0.0.0:4161"), "tcp://127.0.0.1:4161");
    assert.equal(connectAddress("tcp://10.0.0.2:4161"), "tcp://10.0.0.2:4161");
    assert.equal(connectAddress("ipc:///tmp/x"), "ipc:///tmp/x");
  });

  it("parses json log lines and treats other lines as errors", () => {
    assert.deepEqual(parseLogLine('{"time":"t","level":"warn","event":"worker-lost","worker":"w1","tasks":2}'), {
      level: "warn",
      text: "worker-lost worker=w1 tasks=2",
    });
    const names: Record<string, string> = { w1: "test-1" };
    const byName = (id: string): string => names[id] ?? id;
    assert.equal(parseLogLine('{"level":"info","event":"task-retried","task":"k1","worker":"w1"}', byName).text, "task-retried task=k1 worker=test-1");
    assert.equal(
      parseLogLine('{"level":"info","event":"worker-ready","worker":"w2","name":"legacy-00e43c986b"}', byName).text,
      "worker-ready worker=legacy-00e43c986b",
      "a worker the model does not know yet is named by the line itself",
    );
    assert.deepEqual(parseLogLine("ztb broker: cannot bind clients tcp://127.0.0.1:4161: Address already in use"), {
      level: "error",
      text: "ztb broker: cannot bind clients tcp://127.0.0.1:4161: Address already in use",
    });
  });
});
