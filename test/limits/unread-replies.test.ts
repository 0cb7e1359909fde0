/**
 * protocol/spec.md §Limits, outgoing bytes per peer, on a real `ztb broker`: a peer that never reads its replies must
 * not make the broker hold more than its byte budget for it (default --max-unsent 32 MiB per peer, plus what libzmq
 * keeps: at most 64 messages per peer). Before, the broker kept up to 100 000 unread messages per peer: 6 000 replies of
 * 64 KiB cost it ~375 MiB. Each attack below measures the broker's peak resident set (VmHWM, from /proc) against its
 * resident set before the attack, prints both, and checks that a canary client was answered throughout.
 */
import assert from "node:assert/strict";
import { Dealer } from "zeromq";
import { Client } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, peakResidentBytes, residentBytes, spawnBroker } from "../chaos/broker-process";
import { json, snapshotCounters } from "../server/harness";

const MiB = 1024 * 1024;
/**
 * Unbounded, the attacks below added ~386 MiB (clients) and ~283 MiB (admin) to the broker's peak; bounded, 70–85 MiB:
 * the 32 MiB budget, 64 messages inside libzmq, and garbage the broker has not collected yet.
 */
const GROWTH_BOUND = 160 * MiB;
const REPLY_SIZE = 64 * 1024;
const HOSTILE_REQUESTS = 6000;
const HOSTILE_SNAPSHOTS = 3000;

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

/** A canary client: one request after another until stopped, every reply checked, latencies kept. */
function startCanary(endpoint: string): { stop(): Promise<number[]> } {
  const client = new Client({ endpoint, deadline: 60_000 });
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const tag = `canary-${latencies.length}`;
      const started = process.hrtime.bigint();
      const reply = await client.request([tag, "small"]);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      assert.equal(reply.status, "succeeded", `${tag}: ${reply.reason ?? ""}`);
      assert.equal(Buffer.from(reply.payload[0] ?? []).toString(), tag);
    }
  })();
  return {
    async stop() {
      running = false;
      try {
        await loop;
      } finally {
        client.close();
      }
      return latencies;
    },
  };
}

function describeLatencies(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);
  return `${latencies.length} canary requests, latency median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe("limits: outgoing bytes held for a peer that never reads", function () {
  this.timeout(180_000);
  let broker: BrokerProcess;
  let worker: Worker;
  const sockets: Dealer[] = [];

  const dealer = (endpoint: string, options: ConstructorParameters<typeof Dealer>[0] = {}): Dealer => {
    const socket = new Dealer({ linger: 0, receiveTimeout: 30_000, ...options });
    socket.connect(endpoint);
    sockets.push(socket);
    return socket;
  };

  beforeEach(async () => {
    broker = await spawnBroker(["--history", "10"]);
    // Answers "big" with REPLY_SIZE octets and anything else with its own first frame (the canary's tag).
    worker = new Worker({
      endpoint: broker.endpoints.workers,
      capacity: 16,
      handler: (task) => {
        const second = Buffer.from(task.payload[1] ?? []).toString();
        return Promise.resolve(second === "big" ? [Buffer.alloc(REPLY_SIZE, 0x72)] : [task.payload[0] ?? ""]);
      },
    });
    const registered = new Promise<void>((resolve) => worker.on("status", (s) => s.type === "ready" && resolve()));
    worker.start();
    await registered;
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await worker.close();
    await broker.stop();
  });

  it(`a DEALER client that asks for ${HOSTILE_REQUESTS} replies of 64 KiB and never reads them`, async () => {
    const { pid, endpoints } = broker;
    const admin = dealer(endpoints.admin ?? "");
    const baseline = residentBytes(pid) ?? 0;
    const canary = startCanary(endpoints.clients);

    // The hostile client's own socket keeps at most one unread message, so the backlog piles up at the broker.
    const hostile = dealer(endpoints.clients, { receiveHighWaterMark: 1 });
    for (let i = 0; i < HOSTILE_REQUESTS; i++) {
      await hostile.send(["", "ZTBC01", "REQUEST", JSON.stringify({ id: `h${i}` }), `h${i}`, "big"]);
    }
    // Every hostile request answered (the reply handed to the send queue or dropped there): the core's reply count
    // covers the hostile client's and the canary's, so the canary stops first and its own are subtracted.
    await waitFor(async () => (await snapshotCounters(admin)).replies >= HOSTILE_REQUESTS);
    const latencies = await canary.stop();
    await waitFor(async () => (await snapshotCounters(admin)).replies >= HOSTILE_REQUESTS + latencies.length);
    const peak = peakResidentBytes(pid) ?? 0;
    console.log(`      broker RSS before ${mib(baseline)}, peak ${mib(peak)} (+${mib(peak - baseline)}); ${describeLatencies(latencies)}`);
    console.log(`      send-over-budget lines: ${broker.events.get("send-over-budget") ?? 0}`);

    assert.ok(peak - baseline < GROWTH_BOUND, `the broker grew by ${mib(peak - baseline)}`);
    assert.ok(latencies.length > 0, "the canary ran");
    const warnings = broker.events.get("send-over-budget") ?? 0;
    assert.ok(warnings >= 1, "dropping was logged");
    assert.ok(warnings < HOSTILE_REQUESTS / 10, `${warnings} send-over-budget lines: not rate-limited`);
  });

  it(`a monitor that sends ${HOSTILE_SNAPSHOTS} SNAPSHOT(limit 500) and never reads`, async () => {
    const { pid, endpoints } = broker;
    const admin = dealer(endpoints.admin ?? "");
    // 600 requests for a service nobody serves stay queued, so each SNAPSHOT lists 500 of them (~125 KB).
    const parked = dealer(endpoints.clients);
    for (let i = 0; i < 600; i++) await parked.send(["", "ZTBC01", "REQUEST", JSON.stringify({ service: "parked", id: `p${i}` }), "x"]);
    await waitFor(async () => (await snapshotCounters(admin)).queued >= 600);
    await admin.send(["", "ZTBA01", "SNAPSHOT", JSON.stringify({ tasks: { limit: 1 } })]);
    const items = (json((await admin.receive())[3]).tasks as { items: { id: string }[] }).items;
    const marker = items[0]?.id ?? "";

    const baseline = residentBytes(pid) ?? 0;
    const canary = startCanary(endpoints.clients);
    const hostile = dealer(endpoints.admin ?? "", { receiveHighWaterMark: 1 });
    for (let i = 0; i < HOSTILE_SNAPSHOTS; i++) {
      await hostile.send(["", "ZTBA01", "SNAPSHOT", JSON.stringify({ tasks: { limit: 500 } })]);
    }
    // The hostile monitor's last request cancels a parked task: its client's reply shows that the broker has read,
    // and answered, every SNAPSHOT before it (one peer's messages are handled in order).
    await hostile.send(["", "ZTBA01", "CANCEL", JSON.stringify({ task: marker })]);
    const cancelled = json((await parked.receive())[3]);
    assert.deepEqual([cancelled.status, cancelled.reason], ["failed", "cancelled"]);
    const latencies = await canary.stop();
    const peak = peakResidentBytes(pid) ?? 0;
    console.log(`      broker RSS before ${mib(baseline)}, peak ${mib(peak)} (+${mib(peak - baseline)}); ${describeLatencies(latencies)}`);

    assert.ok(peak - baseline < GROWTH_BOUND, `the broker grew by ${mib(peak - baseline)}`);
    assert.ok(latencies.length > 0, "the canary ran");
    assert.ok((broker.events.get("send-over-budget") ?? 0) >= 1, "dropping was logged");
  });
});
