import assert from "node:assert/strict";
import { PlainClient, type PlainReply } from "../../broker/src/client";
import type { BrokerServer } from "../../broker/src/server/broker-server";
import { LegacyWorker, Worker } from "../../broker/src/worker";
import { nextStatus, startBroker, text } from "./harness";

/**
 * The 2010 README's walk-through with a short -T: broker -t 3, two workers each dropping 10 % of their tasks (every
 * tenth, so the run is reproducible), clients sending numbered requests. Every request is answered or failed exactly once.
 */
describe("the prototype's scenario: -t 3, two workers dropping 10 %", () => {
  let server: BrokerServer;
  const closers: (() => unknown)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await server.close();
  });

  it("answers or fails every request exactly once", async () => {
    const broker = await startBroker({ tries: 3, timeout: 60 });
    server = broker.server;
    const { clients, workers, answers } = broker.endpoints;
    const attempts = new Map<string, number>();
    let modernTasks = 0;
    let legacyTasks = 0;
    const count = (id: string): void => {
      attempts.set(id, (attempts.get(id) ?? 0) + 1);
    };

    const modern = new Worker({
      endpoint: workers,
      name: "modern",
      heartbeat: 100,
      handler: async (task) => {
        count(task.id);
        if (++modernTasks % 10 === 0) {
          // Dropped: never answered; the broker's CANCEL after the timeout ends the wait.
          await new Promise((_, reject) => task.signal.addEventListener("abort", () => reject(task.signal.reason)));
        }
        return task.payload;
      },
    });
    const legacy = new LegacyWorker({
      workers,
      answers,
      handler: async (task) => {
        count(task.id);
        return ++legacyTasks % 10 === 0 ? null : task.payload;
      },
    });
    closers.push(() => modern.close(), () => legacy.close());
    const ready = [nextStatus(modern, "ready"), nextStatus(legacy, "connected")];
    modern.start();
    legacy.start();
    await Promise.all(ready);

    const perClient = 40;
    const plainClients = Array.from({ length: 4 }, () => new PlainClient({ endpoint: clients, deadline: 10_000 }));
    closers.push(...plainClients.map((client) => () => client.close()));
    const replies: { request: string; reply: PlainReply }[] = [];
    await Promise.all(
      plainClients.map(async (client, c) => {
        for (let i = 1; i <= perClient; i++) {
          const request = `request ${c * perClient + i}`;
          replies.push({ request, reply: await client.request(request) });
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100)); // room for a duplicate reply to show up

    assert.equal(replies.length, 4 * perClient);
    for (const { request, reply } of replies) {
      if (reply.ok) assert.deepEqual(text(reply.payload), [request]);
      else assert.deepEqual(reply.payload.map((frame) => frame.length), [0]);
    }
    for (const client of plainClients) assert.deepEqual(client.stats, { duplicates: 0, late: 0, unmatched: 0, resent: 0, failovers: 0, resends: 0 });
    const retried = [...attempts.values()].filter((n) => n > 1).length;
    assert.ok(retried > 0, "some dropped tasks were retried");
    assert.ok([...attempts.values()].every((n) => n <= 3), "never more than -t 3 attempts");
  });
});
