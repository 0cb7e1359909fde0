/**
 * Two `ztb broker` processes on one host with different endpoints and no --admin: each gets its own admin endpoint
 * (the clients port + 3), so the second one starts instead of failing on an admin port it was never told about.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { freePorts } from "../../broker/bench/free-ports";
import { CLI } from "../runtime/harness";

function start(clients: number): { child: ChildProcess; line: Promise<string> } {
  const at = (port: number): string => `tcp://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [CLI, "broker", at(clients), at(clients + 1), at(clients + 2)], { stdio: ["ignore", "ignore", "pipe"] });
  const line = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr ?? process.stdin }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`exited ${String(code)} before its start line`)));
  });
  return { child, line };
}

/** Whether `port` can be bound on loopback right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A base port whose next three ports are free too (the broker binds base..base+3). */
async function fourFreePorts(avoid: number[]): Promise<number> {
  for (;;) {
    const [base = 0] = await freePorts(1);
    if (base + 3 > 65535 || avoid.some((p) => Math.abs(p - base) < 4)) continue;
    if ((await Promise.all([1, 2, 3].map((d) => bindable(base + d)))).every(Boolean)) return base;
  }
}

describe("cli: the default admin endpoint follows the clients port", function () {
  this.timeout(20_000);
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
  });

  it("starts a second broker with other endpoints on the same host, each with its own admin port", async () => {
    const a = await fourFreePorts([]);
    const b = await fourFreePorts([a]);
    const first = start(a);
    children.push(first.child);
    assert.match(await first.line, new RegExp(`admin tcp://127\\.0\\.0\\.1:${a + 3} `));
    const second = start(b);
    children.push(second.child);
    assert.match(await second.line, new RegExp(`admin tcp://127\\.0\\.0\\.1:${b + 3} `));
  });
});
