/**
 * The 2010 prototype's protocol, written directly with zeromq sockets: a plain REQ client, a legacy worker asking
 * for work on a REQ socket and answering on a PUSH socket (protocol/spec.md §Client plain mode, §Legacy worker).
 */
import assert from "node:assert/strict";
import { Peers, type RunningBroker, startBroker, texts, TRANSPORTS } from "./harness";

for (const transport of TRANSPORTS) {
  describe(`server: plain client and legacy worker over ${transport}`, () => {
    let broker: RunningBroker;
    const peers = new Peers();

    beforeEach(async () => {
      broker = await startBroker({}, transport);
    });
    afterEach(async () => {
      peers.closeAll();
      await broker.stop();
    });

    it("carries a request to the worker and its answer back, frames unchanged", async () => {
      const worker = peers.request(broker.endpoints.workers);
      const answers = peers.push(broker.endpoints.answers);
      const client = peers.request(broker.endpoints.clients);

      await worker.send("requesting task");
      await client.send(["hello", "world"]);
      const [task, ...payload] = await worker.receive();
      assert.ok(task !== undefined && task.length > 0, "a task id frame");
      assert.deepEqual(texts(payload), ["hello", "world"]);

      await answers.send([task, "HELLO", "WORLD"]);
      assert.deepEqual(texts(await client.receive()), ["HELLO", "WORLD"]);
    });

    it("serves successive requests with fresh task ids", async () => {
      const worker = peers.request(broker.endpoints.workers);
      const answers = peers.push(broker.endpoints.answers);
      const client = peers.request(broker.endpoints.clients);
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++) {
        await worker.send("requesting task");
        await client.send(`n${i}`);
        const [task, payload] = await worker.receive();
        assert.ok(task !== undefined);
        ids.add(task.toString("latin1"));
        await answers.send([task, `${payload?.toString()}!`]);
        assert.deepEqual(texts(await client.receive()), [`n${i}!`]);
      }
      assert.equal(ids.size, 5);
    });
  });
}
