/**
 * `ztb broker --metrics HOST:PORT`: scraped over HTTP while a real broker serves load, parsed as Prometheus text: the
 * counters equal what the clients saw, move between two scrapes under load, and the histogram is consistent.
 */
import assert from "node:assert/strict";
import { get } from "node:http";
import { Client } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, spawnBroker } from "../chaos/broker-process";

function scrape(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`http://${address}/metrics`, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${String(res.statusCode)}`))));
    }).on("error", reject);
  });
}

/** The metrics address the broker announced (the line after `listening`). */
async function metricsAddress(broker: BrokerProcess): Promise<string> {
  for (let i = 0; i < 250; i++) {
    const line = broker.recent.find((l) => l.includes('"event":"metrics"'));
    if (line !== undefined) return (JSON.parse(line) as { metrics: string }).metrics;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail("the broker never announced its metrics address");
}

/** Prometheus text format: `name{labels} value` lines into a map keyed by `name{labels}`. */
function parse(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    values.set(`${match[1] ?? ""}${match[2] ?? ""}`, Number(match[3]));
  }
  return values;
}

describe("cli: ztb broker --metrics", function () {
  this.timeout(30_000);
  let broker: BrokerProcess;
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await broker.stop();
  });

  it("serves Prometheus metrics whose counters move under load and match the replies", async () => {
    broker = await spawnBroker(["--metrics", "127.0.0.1:0", "-t", "1", "--log-level", "info"]);
    const address = await metricsAddress(broker);
    let n = 0;
    const worker = new Worker({
      endpoint: broker.endpoints.workers,
      name: "w",
      capacity: 4,
      handler: async (task) => {
        if (n++ % 5 === 4) throw new Error("every fifth fails");
        return task.payload;
      },
    });
    worker.start();
    closers.push(() => worker.close());
    const client = new Client({ endpoint: broker.endpoints.clients, deadline: 10_000 });
    closers.push(() => client.close());

    const before = parse(await scrape(address));
    assert.equal(before.get("ztb_up"), 1);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => client.request([`r${i}`])));
    const after = parse(await scrape(address));
    const failed = replies.filter((r) => r.status === "failed").length;
    assert.ok(failed > 0);
    assert.equal(after.get("ztb_requests_total"), (before.get("ztb_requests_total") ?? 0) + 50);
    assert.equal(after.get('ztb_replies_total{status="succeeded",reason=""}'), 50 - failed);
    assert.equal(after.get('ztb_replies_total{status="failed",reason="worker-failed"}'), failed);
    assert.equal(after.get('ztb_workers{state="idle"}'), 1);
    assert.equal(after.get('ztb_service_queued{service="default"}'), 0);
    assert.equal(after.get('ztb_attempt_duration_seconds_bucket{le="+Inf"}'), 50);
    assert.equal(after.get("ztb_attempt_duration_seconds_count"), 50);
    // Buckets are cumulative.
    const buckets = [...after].filter(([k]) => k.startsWith("ztb_attempt_duration_seconds_bucket")).map(([, v]) => v);
    assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b));
  });

  it("with --max-memory, reports the budget, the resident and held memory, and whether it sheds load", async () => {
    broker = await spawnBroker(["--metrics", "127.0.0.1:0", "--max-memory", "256M", "--log-level", "info"]);
    const address = await metricsAddress(broker);
    const metrics = parse(await scrape(address));
    assert.equal(metrics.get('ztb_memory_bytes{kind="budget"}'), 256 * 1024 * 1024);
    const resident = metrics.get('ztb_memory_bytes{kind="resident"}') ?? 0;
    const held = metrics.get('ztb_memory_bytes{kind="held"}') ?? 0;
    assert.ok(resident > 16 * 1024 * 1024 && resident < 256 * 1024 * 1024, `resident ${resident}`);
    assert.ok(held > 0 && held < 256 * 1024 * 1024, `held ${held}`);
    assert.equal(metrics.get('ztb_load_shedding{cause="memory"}'), 0);
  });

  it("has no memory metrics without --max-memory", async () => {
    broker = await spawnBroker(["--metrics", "127.0.0.1:0", "--log-level", "info"]);
    const metrics = parse(await scrape(await metricsAddress(broker)));
    assert.equal([...metrics.keys()].filter((k) => k.startsWith("ztb_memory_bytes") || k.startsWith("ztb_load_shedding")).length, 0);
  });

  it("refuses an address it cannot serve on in one line, exit 2", async () => {
    broker = await spawnBroker(["--metrics", "127.0.0.1:0", "--log-level", "info"]);
    const taken = await metricsAddress(broker);
    const second = spawnBroker(["--metrics", taken]);
    await assert.rejects(second, new RegExp(`cannot serve --metrics on ${taken.replace(/\./g, "\\.")}: .*EADDRINUSE`));
  });
});
