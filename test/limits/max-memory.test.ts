/**
 * `ztb broker --max-memory` against a client that floods it with large requests nobody serves (a real broker process,
 * its RSS read from /proc): the broker refuses what would take it past its budget with queue-full, its peak RSS
 * stays within the budget, and a canary client still gets a reply (a refusal too, while the broker sheds).
 */
import assert from "node:assert/strict";
import { Dealer } from "zeromq";
import { Client } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, residentBytes, spawnBroker } from "../chaos/broker-process";

const MB = 1024 * 1024;

describe("limits: --max-memory sheds load before the budget is reached", function () {
  this.timeout(60_000);
  let broker: BrokerProcess | undefined;
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await broker?.stop();
  });

  it("refuses a flood of 512 KiB requests with queue-full, stays within its budget, and still answers others", async () => {
    // The budget is the idle broker's RSS plus 64 MiB, so a few hundred queued requests would exceed it.
    const probe = await spawnBroker(["--log-level", "error"]);
    const idle = residentBytes(probe.pid) ?? 0;
    await probe.stop();
    const budget = Math.ceil((idle + 64 * MB) / MB) * MB;
    broker = await spawnBroker(["--max-memory", String(budget), "--log-level", "error"]);
    const pid = broker.pid;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(pid) ?? 0)), 20);
    closers.push(() => clearInterval(sampler));

    const worker = new Worker({ endpoint: broker.endpoints.workers, name: "canary", services: ["canary"], handler: async (t) => t.payload });
    worker.start();
    closers.push(() => worker.close());
    const canary = new Client({ endpoint: broker.endpoints.clients, deadline: 20_000 });
    closers.push(() => canary.close());

    const flood = new Dealer({ linger: 0 });
    flood.connect(broker.endpoints.clients);
    closers.push(() => flood.close());
    const big = Buffer.alloc(512 * 1024, 0x62);
    let refused = 0;
    const replies = (async () => {
      for await (const frames of flood) {
        const detail = JSON.parse(frames[3]?.toString() ?? "{}") as { reason?: string; message?: string };
        if (detail.reason === "queue-full" && /memory budget/.test(detail.message ?? "")) refused++;
      }
    })().catch(() => undefined);
    for (let i = 0; i < 400; i++) {
      await flood.send(["", "ZTBC01", "REQUEST", JSON.stringify({ service: "nobody", id: `f${i}` }), big]);
      if (i % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 10)); // 2 MiB per 10 ms
    }
    const deadline = Date.now() + 20_000;
    while (refused === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const answer = await canary.request(["still served"], { service: "canary" });
    clearInterval(sampler);
    void replies;
    console.log(`      budget ${(budget / MB).toFixed(0)} MiB (idle ${(idle / MB).toFixed(0)} MiB): peak RSS ${(peak / MB).toFixed(0)} MiB, ${refused} of 400 requests shed`);
    assert.ok(refused > 0, "no request was shed");
    assert.equal(answer.status, "failed", "the canary's service is full too: shedding refuses every new request");
    // The flood (200 MiB at about 200 MiB/s) would be held whole without shedding. A flood several times faster than
    // the 100 ms samples can take the broker a little past its budget (§Limits); at this rate it stays under it.
    assert.ok(peak <= budget, `peak RSS ${(peak / MB).toFixed(0)} MiB over the budget of ${(budget / MB).toFixed(0)} MiB`);
  });
});
