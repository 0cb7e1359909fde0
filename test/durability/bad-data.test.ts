/**
 * `ztb broker --data DIR` given a directory it must not or cannot use (protocol/spec.md §Durability): one line on
 * stderr and a non-zero exit, never a stack trace, never a changed file; a journal that fills up stops the broker
 * without acknowledging what it could not write, and loses nothing it had committed.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { Client, ClientTimeoutError } from "../../broker/src/client";
import { JOURNAL_FILE } from "../../broker/src/store/sqlite-journal";
import { AdminMonitor } from "../chaos/admin-monitor";
import { spawnBroker } from "../chaos/broker-process";
import { runCli } from "../runtime/harness";

const ENDPOINTS = ["--no-admin", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"];

function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split("\n").filter((line) => line !== "");
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  assert.match(lines[0] ?? "", pattern);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
}

describe("durability: --data with a directory the broker cannot use", function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-bad-data-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("refuses a file that is not a database, and leaves it as it was", async () => {
    const file = path.join(dir, JOURNAL_FILE);
    const garbage = Buffer.from("these are not the pages of a SQLite database".repeat(200));
    fs.writeFileSync(file, garbage);
    const run = await runCli(["broker", "--data", dir, ...ENDPOINTS]);
    assert.equal(run.code, 2);
    oneLine(run.stderr, /^ztb broker: .*ztb-journal\.sqlite is not a ztb journal/);
    assert.deepEqual(fs.readFileSync(file), garbage);
  });

  it("refuses another program's SQLite database, and leaves its tables alone", async () => {
    const file = path.join(dir, JOURNAL_FILE);
    const other = new Database(file);
    other.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)");
    other.close();
    const run = await runCli(["broker", "--data", dir, ...ENDPOINTS]);
    assert.equal(run.code, 2);
    oneLine(run.stderr, /is not a ztb journal \(it holds tables invoices\)/);
    const check = new Database(file, { readonly: true });
    assert.deepEqual(check.prepare("SELECT total FROM invoices").all(), [{ total: 9.5 }]);
    check.close();
  });

  it("refuses a directory it cannot create, with the reason", async () => {
    // Root ignores permission bits, so use a place no process may create a directory in.
    const run = await runCli(["broker", "--data", "/sys/ztb-journal-test", ...ENDPOINTS]);
    assert.equal(run.code, 2);
    oneLine(run.stderr, /^ztb broker: cannot create the data directory \/sys\/ztb-journal-test/);
  });

  it("stops with one line when the journal is full, having acknowledged nothing it could not write, and keeps what it had", async () => {
    const broker = await spawnBroker(["--data", dir, "--max-journal", "65536", "--log-level", "error"]);
    let stderr = "";
    broker.child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const monitor = new AdminMonitor(broker.endpoints.admin);
    await monitor.start();
    // No worker: every accepted request stays queued. Each SNAPSHOT is sent after the commit of what it shows.
    const client = new Client({ endpoint: broker.endpoints.clients, deadline: 60_000 });
    let acknowledged = 0;
    let sent = 0;
    const big = Buffer.alloc(2000, 0x61);
    while (broker.child.exitCode === null && sent < 200) {
      client.request([big], { key: `k${sent++}` }).catch((err: unknown) => assert.ok(!(err instanceof ClientTimeoutError)));
      const shown = await Promise.race([monitor.snapshot().then((s) => s.counters.queued), broker.exited.then(() => -1)]);
      if (shown >= 0) acknowledged = shown;
    }
    assert.equal(await broker.exited, 1, "the broker exits 1 when a commit fails");
    client.close();
    monitor.close();
    assert.ok(acknowledged > 5, `only ${acknowledged} requests fit: the test needs a few`);
    assert.match(stderr, /the disk or the journal's size limit is full; stopped \(nothing after the last commit was acknowledged\)/);

    const again = await spawnBroker(["--data", dir, "--log-level", "error"]);
    const check = new AdminMonitor(again.endpoints.admin);
    await check.start();
    const queued = (await check.snapshot()).counters.queued;
    check.close();
    await again.stop();
    assert.ok(queued >= acknowledged, `${acknowledged} requests were shown accepted, ${queued} recovered`);
  });
});
