/**
 * protocol/spec.md §Scheduling rule 5: a worker whose connection drops has its task re-dispatched at once, through
 * ZMQ_DISCONNECT_MSG on the workers ROUTER — not after the attempt timeout (10 s here; the bound is 2 s).
 */
import assert from "node:assert/strict";
import { json, Peers, ready, receiveCommand, type RunningBroker, startBroker, texts, TRANSPORTS } from "./harness";

const BOUND_MS = 2000;

for (const transport of TRANSPORTS) {
  describe(`server: a worker lost mid-task over ${transport}`, () => {
    let broker: RunningBroker;
    const peers = new Peers();

    beforeEach(async () => {
      broker = await startBroker({ timeout: 10_000 }, transport);
    });
    afterEach(async () => {
      peers.closeAll();
      await broker.stop();
    });

    it("re-dispatches a modern worker's task to another worker before the timeout", async () => {
      const first = peers.dealer(broker.endpoints.workers);
      await ready(first, "first");
      const client = peers.dealer(broker.endpoints.clients);
      await client.send(["", "ZTBC01", "REQUEST", "{}", "job"]);
      const task = await receiveCommand(first, "TASK");

      const second = peers.dealer(broker.endpoints.workers);
      await ready(second, "second");
      const lostAt = Date.now();
      first.close();
      const retried = await receiveCommand(second, "TASK");
      assert.equal(retried[3]?.toString(), task[3]?.toString());
      assert.equal(json(retried[4]).attempt, 2);
      await second.send(["", "ZTBW01", "RESULT", retried[3] ?? "", "ok"]);

      const reply = await client.receive();
      assert.ok(Date.now() - lostAt < BOUND_MS, `reply ${Date.now() - lostAt} ms after the worker vanished`);
      const detail = json(reply[3]);
      assert.equal(detail.status, "succeeded");
      assert.equal(detail.attempts, 2);
      assert.equal(detail.worker, "second");
    });

    it("re-dispatches a legacy worker's task when its REQ socket goes away", async () => {
      const first = peers.request(broker.endpoints.workers);
      await first.send("requesting task");
      const client = peers.request(broker.endpoints.clients);
      await client.send("job");
      const [task] = await first.receive();

      const second = peers.request(broker.endpoints.workers);
      const answers = peers.push(broker.endpoints.answers);
      await second.send("requesting task");
      const lostAt = Date.now();
      first.close();
      const [retried, payload] = await second.receive();
      assert.equal(retried?.toString(), task?.toString());
      assert.equal(payload?.toString(), "job");
      await answers.send([retried ?? "", "ok"]);
      assert.deepEqual(texts(await client.receive()), ["ok"]);
      assert.ok(Date.now() - lostAt < BOUND_MS, `reply ${Date.now() - lostAt} ms after the worker vanished`);
    });
  });
}
