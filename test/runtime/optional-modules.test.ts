/**
 * The broker command loads NATS (cluster mode) and prom-client (--metrics) only when asked for: the extension's .vsix
 * ships neither, and its broker failed to start at all when `ztb broker` required the NATS client at load time (seen
 * in the installed-.vsix suite). A child process with those packages made unresolvable starts a plain broker.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";

const COMMAND = join(__dirname, "../../broker/src/cli/broker-command.js");

const BLOCK = `
const Module = require("module");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request.startsWith("@nats-io/") || request === "prom-client") throw new Error("not shipped: " + request);
  return resolve.call(this, request, ...rest);
};
require(${JSON.stringify(COMMAND)}).runBrokerCommand(process.argv.slice(1)).then((code) => process.exit(code));
`;

describe("ztb broker without the optional packages (as in the extension's .vsix)", function () {
  this.timeout(20_000);

  it("starts, listens and stops when neither NATS nor prom-client can be loaded", async () => {
    const child = spawn(process.execPath, ["-e", BLOCK, "--", "--no-admin", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "--log-level", "info"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    const listening = new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes("ztb broker: clients ")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`exited ${String(code)} before listening: ${stderr}`)));
    });
    await listening;
    assert.match(stderr, /admin off \(tries unlimited, timeout unlimited; in memory\)/);
    // Stopped the moment it says where it listens, it still stops gracefully (its signal handlers come first).
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
  });
});
