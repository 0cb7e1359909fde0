import assert from "node:assert/strict";
import { Client } from "../../broker/src/client";
import type { BrokerServer } from "../../broker/src/server/broker-server";
import { Worker } from "../../broker/src/worker";
import { spawnCli, startBroker, text } from "./harness";

describe("a `ztb worker` process killed with SIGKILL mid-task", () => {
  let server: BrokerServer;
  let client: Client | undefined;
  let rescuer: Worker | undefined;
  let victim: ReturnType<typeof spawnCli> | undefined;

  afterEach(async () => {
    victim?.child.kill("SIGKILL");
    client?.close();
    await rescuer?.close();
    await server.close();
  });

  it("has its task re-dispatched to another worker long before the attempt timeout", async () => {
    const timeout = 15_000;
    const broker = await startBroker({ tries: 3, timeout });
    server = broker.server;
    // The victim simulates 60 s of work, so only its death can end the first attempt early.
    victim = spawnCli(["worker", "--name", "victim", "--delay", "60s", "--heartbeat", "100", broker.endpoints.workers]);
    await victim.line(/ready/);
    client = new Client({ endpoint: broker.endpoints.clients, deadline: 10_000 });
    const reply = client.request("survive me");
    await victim.line(/task .* attempt 1\/3: survive me/);

    rescuer = new Worker({ endpoint: broker.endpoints.workers, name: "rescuer", heartbeat: 100, handler: async (task) => task.payload });
    rescuer.start();
    victim.child.kill("SIGKILL");

    const answer = await reply;
    assert.equal(answer.status, "succeeded");
    assert.equal(answer.worker, "rescuer");
    assert.equal(answer.attempts, 2);
    assert.deepEqual(text(answer.payload), ["survive me"]);
    assert.ok(answer.elapsed < timeout, `answered after ${answer.elapsed} ms`);
  });
});
