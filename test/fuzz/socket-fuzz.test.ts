/**
 * Socket-level fuzzing (protocol/spec.md §Versioning and error handling): while a Worker, a LegacyWorker, a Client and
 * a PlainClient exchange valid traffic, malformed messages arrive on every endpoint from two peers each. Valid
 * traffic is unaffected, the broker stays up, each bad message is counted in the admin counters, and the log has at
 * most one line per second per endpoint and code, naming a peer.
 */
import assert from "node:assert/strict";
import { Dealer, Push } from "zeromq";
import type { Endpoint } from "../../broker/src/core/api";
import { Client, PlainClient } from "../../broker/src/client";
import { LegacyWorker, Worker, type WorkerStatus } from "../../broker/src/worker";
import { Peers, type RunningBroker, snapshotCounters, startBroker } from "../server/harness";
import { CATALOGUE, type Frames, randomBadMessages, rejection } from "./bad-messages";

const RANDOM_PER_ENDPOINT = 150;
const VALID_PER_CLIENT = 150;

async function malformedCounters(admin: Dealer): Promise<Record<string, number>> {
  return (await snapshotCounters(admin)).malformed;
}

/** Drains a fuzz socket's replies (REPLY malformed, DISCONNECT, ERROR) so its pipe never fills. */
async function drain(socket: Dealer): Promise<void> {
  try {
    for await (const _ of socket) void _;
  } catch {
    // closed
  }
}

describe("socket fuzz: malformed messages on every endpoint during valid traffic", function () {
  this.timeout(30_000);
  let broker: RunningBroker;
  const peers = new Peers();
  const closers: (() => unknown)[] = [];

  beforeEach(async () => {
    broker = await startBroker();
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    peers.closeAll();
    await broker.stop();
  });

  it("catalogue entries are all rejected by their endpoint's decoder", () => {
    for (const [endpoint, cases] of Object.entries(CATALOGUE) as [Endpoint, Record<string, Frames>][]) {
      for (const [name, frames] of Object.entries(cases)) assert.ok(rejection(endpoint, frames), `${endpoint}: ${name}`);
    }
  });

  it("serves every valid request, counts every bad message, logs them rate-limited with their peer", async () => {
    const { endpoints } = broker;
    const statuses: WorkerStatus["type"][] = [];
    const worker = new Worker({ endpoint: endpoints.workers, name: "valid", capacity: 4, handler: async (t) => t.payload });
    worker.on("status", (s) => statuses.push(s.type));
    const legacy = new LegacyWorker({ workers: endpoints.workers, answers: endpoints.answers, handler: async (t) => t.payload });
    const client = new Client({ endpoint: endpoints.clients, deadline: 10_000 });
    const plain = new PlainClient({ endpoint: endpoints.clients, deadline: 10_000 });
    closers.push(() => worker.close(), () => legacy.close(), () => client.close(), () => plain.close());
    worker.start();
    legacy.start();

    const valid = async (): Promise<void> => {
      const lanes = Array.from({ length: 10 }, async (_, lane) => {
        for (let i = lane; i < VALID_PER_CLIENT; i += 10) {
          const reply = await client.request(`e-${i}`);
          assert.equal(reply.status, "succeeded", JSON.stringify(reply));
          assert.equal(Buffer.from(reply.payload[0] ?? []).toString(), `e-${i}`);
          const answer = await plain.request(`p-${i}`);
          assert.ok(answer.ok);
          assert.equal(Buffer.from(answer.payload[0] ?? []).toString(), `p-${i}`);
        }
      });
      await Promise.all(lanes);
    };

    const sent: Record<Endpoint, number> = { clients: 0, workers: 0, answers: 0, admin: 0 };
    const codes = new Set<string>();
    const fuzz = async (): Promise<void> => {
      const sockets: { endpoint: Endpoint; socket: Dealer | Push }[] = (["clients", "workers", "admin"] as const).flatMap((endpoint) =>
        [0, 1].map(() => {
          const socket = peers.dealer(endpoints[endpoint] ?? "");
          void drain(socket);
          return { endpoint, socket };
        }),
      );
      sockets.push({ endpoint: "answers", socket: peers.push(endpoints.answers) }, { endpoint: "answers", socket: peers.push(endpoints.answers) });
      for (const [index, { endpoint, socket }] of sockets.entries()) {
        const messages = [
          ...Object.values(CATALOGUE[endpoint]).map((frames) => ({ frames, code: rejection(endpoint, frames) ?? "" })),
          ...randomBadMessages(endpoint, RANDOM_PER_ENDPOINT, 7000 + index),
        ];
        for (const { frames, code } of messages) {
          await socket.send(frames);
          sent[endpoint]++;
          codes.add(`${endpoint} ${code}`);
        }
      }
    };

    const started = Date.now();
    await Promise.all([valid(), fuzz()]);
    const seconds = (Date.now() - started) / 1000;

    const admin = peers.dealer(endpoints.admin ?? "");
    const want = { client: sent.clients, worker: sent.workers, answers: sent.answers, admin: sent.admin };
    let counted = await malformedCounters(admin);
    for (let i = 0; i < 100 && JSON.stringify(counted) !== JSON.stringify(want); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      counted = await malformedCounters(admin);
    }
    assert.deepEqual(counted, want);

    assert.ok(!statuses.includes("disconnected"), `the valid worker was disturbed: ${statuses.join(",")}`);
    assert.deepEqual([client.stats, plain.stats].map((s) => s.duplicates + s.unmatched), [0, 0]);

    const lines = broker.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => String(l.event).startsWith("malformed-"));
    const perKey = new Map<string, number>();
    for (const line of lines) {
      assert.equal(typeof line.code, "string");
      if (line.endpoint !== "answers") assert.match(String(line.peer), /^[0-9a-f]{2,}$/, "the peer's routing id in hex");
      const key = `${String(line.endpoint)} ${String(line.code)}`;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    for (const key of codes) assert.ok(perKey.has(key), `no log line for ${key}`);
    for (const [key, count] of perKey) assert.ok(count <= Math.ceil(seconds) + 1, `${count} lines for ${key} in ${seconds} s`);
    const total = sent.clients + sent.workers + sent.answers + sent.admin;
    assert.ok(lines.length < total / 4, `${lines.length} log lines for ${total} bad messages`);
  });
});
