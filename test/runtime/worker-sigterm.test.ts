/**
 * Issue 12 item 2 end to end: with `-t 1`, SIGTERM on a busy `ztb worker` used to fail the client's request as
 * worker-lost. Now the worker leaves without losing work: the task it could not finish in its grace period is given
 * back, runs elsewhere as the same attempt 1, and the client gets a success.
 */
import assert from "node:assert/strict";
import { Client } from "../../broker/src/client";
import type { BrokerServer } from "../../broker/src/server/broker-server";
import { Worker } from "../../broker/src/worker";
import { spawnCli, startBroker, text } from "./harness";

describe("a busy `ztb worker` stopped with SIGTERM (-t 1)", () => {
  let server: BrokerServer;
  let client: Client | undefined;
  let rescuer: Worker | undefined;
  let leaver: ReturnType<typeof spawnCli> | undefined;

  afterEach(async () => {
    leaver?.child.kill("SIGKILL");
    client?.close();
    await rescuer?.close();
    await server.close();
  });

  it("gives its unfinished task back: it runs elsewhere as attempt 1 of 1 and succeeds", async () => {
    const broker = await startBroker({ tries: 1 });
    server = broker.server;
    // 60 s of work against a 200 ms grace: only a give-back can save the task.
    leaver = spawnCli(["worker", "--name", "leaver", "--delay", "60s", "--grace", "200ms", "--heartbeat", "100", broker.endpoints.workers]);
    await leaver.line(/ready/);
    client = new Client({ endpoint: broker.endpoints.clients, deadline: 20_000 });
    const reply = client.request("keep me");
    await leaver.line(/task .* attempt 1\/1: keep me/);

    rescuer = new Worker({ endpoint: broker.endpoints.workers, name: "rescuer", heartbeat: 100, handler: async (task) => task.payload });
    rescuer.start();
    leaver.child.kill("SIGTERM");

    const answer = await reply;
    assert.equal(answer.status, "succeeded", JSON.stringify(answer));
    assert.equal(answer.worker, "rescuer");
    assert.equal(answer.attempts, 1);
    assert.deepEqual(text(answer.payload), ["keep me"]);
    const exit = await new Promise<number | null>((resolve) => {
      if (leaver?.child.exitCode !== null) resolve(leaver?.child.exitCode ?? null);
      else leaver.child.once("exit", (code) => resolve(code));
    });
    assert.equal(exit, 0);
  });
});
