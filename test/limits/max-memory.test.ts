/**
 * `ztb broker --max-memory` against a client that floods it with requests for a service whose one worker never
 * answers (a real broker process, its RSS read from /proc): the broker refuses what would take it past its budget with
 * queue-full, its peak RSS stays within the budget, a canary client still gets a reply (a refusal too, while the broker
 * sheds), and once the flood's tasks are gone the canary is served again.
 */
import assert from "node:assert/strict";
import { Dealer } from "zeromq";
import { Client } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, residentBytes, spawnBroker } from "../chaos/broker-process";

const MB = 1024 * 1024;

/** Polls `check` every 100 ms until it holds or `ms` passed; whether it held. */
async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (await check()) return true;
  }
  return false;
}

describe("limits: --max-memory sheds load before the budget is reached", function () {
  this.timeout(90_000);
  let broker: BrokerProcess | undefined;
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await broker?.stop();
  });

  /**
   * A broker whose budget is its idle RSS plus 128 MiB (about the least --max-memory accepts), a canary service with a worker, a "stalled" service whose
   * worker takes one task and never answers (so the flood's tasks wait in an ordinary queue: tasks for services
   * nobody serves have a byte bound of their own), and a flooding DEALER counting the refusals it gets for memory.
   */
  async function setUp(): Promise<{ budget: number; idle: number; peak: () => number; canary: Client; flood: Dealer; refused: () => number }> {
    const probe = await spawnBroker(["--log-level", "error"]);
    const idle = residentBytes(probe.pid) ?? 0;
    await probe.stop();
    const budget = Math.ceil((idle + 128 * MB) / MB) * MB;
    const started = await spawnBroker(["--max-memory", String(budget), "--log-level", "error"]);
    broker = started;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(started.pid) ?? 0)), 20);
    closers.push(() => clearInterval(sampler));

    const worker = new Worker({ endpoint: started.endpoints.workers, name: "canary", services: ["canary"], handler: async (t) => t.payload });
    worker.start();
    closers.push(() => worker.close());
    const canary = new Client({ endpoint: started.endpoints.clients, deadline: 20_000 });
    closers.push(() => canary.close());
    const stalled = new Worker({ endpoint: started.endpoints.workers, name: "stalled", services: ["stalled"], handler: () => new Promise(() => undefined) });
    stalled.start();
    closers.push(() => stalled.close());
    const registered = await waitFor(async () => !/no worker serves/.test((await canary.request(["up"], { service: "stalled", brokerDeadline: 1 })).message ?? "no worker serves"));
    assert.ok(registered, "the stalled worker did not register");

    const flood = new Dealer({ linger: 0 });
    flood.connect(started.endpoints.clients);
    closers.push(() => flood.close());
    let refused = 0;
    void (async () => {
      for await (const frames of flood) {
        const detail = JSON.parse(frames[3]?.toString() ?? "{}") as { reason?: string; message?: string };
        if (detail.reason === "queue-full" && /memory budget/.test(detail.message ?? "")) refused++;
      }
    })().catch(() => undefined);
    return { budget, idle, peak: () => peak, canary, flood, refused: () => refused };
  }

  it("refuses a flood of 512 KiB requests with queue-full, stays within its budget, and still answers others", async () => {
    const { budget, idle, peak, canary, flood, refused } = await setUp();
    const big = Buffer.alloc(512 * 1024, 0x62);
    for (let i = 0; i < 400; i++) {
      // Each expires after 5 s: then nothing the flood brought in is held any more.
      await flood.send(["", "ZTBC01", "REQUEST", JSON.stringify({ service: "stalled", id: `f${i}`, deadline: 5000 }), big]);
      if (i % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 10)); // 2 MiB per 10 ms
    }
    await waitFor(async () => refused() > 0, 20_000);
    const answer = await canary.request(["still served"], { service: "canary" });
    console.log(`      budget ${(budget / MB).toFixed(0)} MiB (idle ${(idle / MB).toFixed(0)} MiB): peak RSS ${(peak() / MB).toFixed(0)} MiB, ${refused()} of 400 requests shed`);
    assert.ok(refused() > 0, "no request was shed");
    assert.equal(answer.status, "failed", "the canary's service is full too: shedding refuses every new request");
    // The flood (200 MiB at about 200 MiB/s) would be held whole without shedding. A flood several times faster than
    // the 100 ms samples can take the broker a little past its budget (§Limits); at this rate it stays under it.
    assert.ok(peak() <= budget, `peak RSS ${(peak() / MB).toFixed(0)} MiB over the budget of ${(budget / MB).toFixed(0)} MiB`);
    const served = await waitFor(async () => (await canary.request(["served again"], { service: "canary" })).status === "succeeded", 30_000);
    assert.ok(served, "the canary was not served again once the flood's tasks had expired");
  });

  it("takes requests again once a flood of small tasks is gone, though the allocator keeps the memory they took", async () => {
    // Small payloads are carved from the allocator's heap, which keeps what they took once they are freed: the
    // resident memory stays high after the tasks expire, and the broker must not wait for it to fall far.
    const { budget, peak, canary, flood, refused } = await setUp();
    const small = Buffer.alloc(2048, 0x63);
    for (let i = 0; refused() === 0 && i < 200_000; i++) {
      await flood.send(["", "ZTBC01", "REQUEST", JSON.stringify({ service: "stalled", id: `s${i}`, deadline: 3000 }), small]);
      if (i % 256 === 255) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(await waitFor(async () => refused() > 0, 20_000), "no request was shed");
    const served = await waitFor(async () => (await canary.request(["served again"], { service: "canary" })).status === "succeeded", 30_000);
    const rss = residentBytes(broker?.pid ?? 0) ?? 0;
    console.log(`      budget ${(budget / MB).toFixed(0)} MiB: peak RSS ${(peak() / MB).toFixed(0)} MiB, ${(rss / MB).toFixed(0)} MiB once the flood's tasks expired`);
    assert.ok(served, `the canary was not served within 30 s of the flood (the broker at ${(rss / MB).toFixed(0)} MiB of ${(budget / MB).toFixed(0)} MiB)`);
  });
});
