/**
 * Protocol v1 over real sockets, frames written by hand: an enveloped DEALER client and a modern DEALER worker
 * (protocol/spec.md §Client enveloped mode, §Worker protocol).
 */
import assert from "node:assert/strict";
import { json, Peers, ready, receiveCommand, type RunningBroker, startBroker, texts, TRANSPORTS } from "./harness";

for (const transport of TRANSPORTS) {
  describe(`server: enveloped client and modern worker over ${transport}`, () => {
    let broker: RunningBroker;
    const peers = new Peers();

    beforeEach(async () => {
      broker = await startBroker({ tries: 3, timeout: 5000 }, transport);
    });
    afterEach(async () => {
      peers.closeAll();
      await broker.stop();
    });

    it("dispatches TASK with its header and replies REPLY succeeded with the worker's payload", async () => {
      const worker = peers.dealer(broker.endpoints.workers);
      await ready(worker, "alpha", { services: ["echo"] });
      const client = peers.dealer(broker.endpoints.clients);
      await client.send(["", "ZTBC01", "REQUEST", JSON.stringify({ service: "echo", id: "c-1" }), "ping", Buffer.from([0, 255])]);

      const task = await receiveCommand(worker, "TASK");
      assert.deepEqual(texts(task.slice(0, 3)), ["", "ZTBW01", "TASK"]);
      const id = task[3];
      assert.ok(id !== undefined);
      assert.match(id.toString(), /^test-[0-9a-z]+$/);
      assert.deepEqual(json(task[4]), { service: "echo", attempt: 1, attempts: 3, timeout: 5000 });
      assert.equal(task[5]?.toString(), "ping");
      assert.deepEqual([...(task[6] ?? [])], [0, 255]);

      await worker.send(["", "ZTBW01", "RESULT", id, "pong"]);
      const reply = await client.receive();
      assert.deepEqual(texts(reply.slice(0, 3)), ["", "ZTBC01", "REPLY"]);
      const detail = json(reply[3]);
      assert.equal(detail.status, "succeeded");
      assert.equal(detail.id, "c-1");
      assert.equal(detail.task, id.toString());
      assert.equal(detail.attempts, 1);
      assert.equal(detail.worker, "alpha");
      assert.equal(reply[4]?.toString(), "pong");
      assert.equal(reply.length, 5);
    });

    it("a plain DEALER client that adds the delimiter itself is served like REQ", async () => {
      const worker = peers.dealer(broker.endpoints.workers);
      await ready(worker, "beta");
      const client = peers.dealer(broker.endpoints.clients);
      await client.send(["", "plain"]);
      const task = await receiveCommand(worker, "TASK");
      assert.equal(task[5]?.toString(), "plain");
      await worker.send(["", "ZTBW01", "RESULT", task[3] ?? "", "done"]);
      assert.deepEqual(texts(await client.receive()), ["", "done"]);
    });
  });
}
