/**
 * What the shell does when the core's output cannot be delivered or the core does not finish: a reply to a vanished
 * client is counted (EHOSTUNREACH from the mandatory ROUTER), not thrown; a shutdown that never completes is cut
 * off at its hard limit.
 */
import assert from "node:assert/strict";
import type { BrokerCoreApi } from "../../broker/src/core/api";
import { BrokerCore } from "../../broker/src/core/broker-core";
import { Peers, type RunningBroker, startBroker } from "./harness";

describe("server: undeliverable output and stuck shutdown", () => {
  let broker: RunningBroker | undefined;
  const peers = new Peers();

  afterEach(async () => {
    peers.closeAll();
    await broker?.stop();
    broker = undefined;
  });

  it("counts a reply to a client that disconnected as unroutable and keeps serving", async () => {
    // The real core, watched: the test waits until the shell has delivered the client's disconnect notification.
    let clientGone: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (clientGone = resolve));
    broker = await startBroker({
      createCore: (config, startedAt) => {
        const core = new BrokerCore(config, startedAt);
        const handle = core.handle.bind(core);
        core.handle = (input, now) => {
          if (input.kind === "client" && input.msg.type === "peer-gone") clientGone();
          return handle(input, now);
        };
        return core;
      },
    });
    const worker = peers.request(broker.endpoints.workers);
    const answers = peers.push(broker.endpoints.answers);
    const vanishing = peers.request(broker.endpoints.clients);
    await worker.send("requesting task");
    await vanishing.send("for nobody");
    const [task] = await worker.receive();
    vanishing.close();
    await gone;
    // Answers travel in order on one PUSH connection: when the second reply arrives, the first one has been tried.
    await answers.send([task ?? "", "lost"]);

    const client = peers.request(broker.endpoints.clients);
    await worker.send("requesting task");
    await client.send("next");
    const [next] = await worker.receive();
    await answers.send([next ?? "", "kept"]);
    assert.equal((await client.receive()).toString(), "kept");
    assert.equal(broker.server.sendCounters().clients?.unroutable, 1);
  });

  it("closes the sockets at the hard limit when the core never reports stopped", async () => {
    const stuck: BrokerCoreApi = {
      handle: () => [],
      tick: () => [],
      nextDeadline: () => undefined,
      snapshot: () => {
        throw new Error("not used");
      },
      inspect: () => undefined,
      metrics: () => {
        throw new Error("not used");
      },
    };
    broker = await startBroker({ createCore: () => stuck });
    const started = Date.now();
    await broker.server.shutdown(10, 100);
    const took = Date.now() - started;
    assert.ok(took >= 100 && took < 1000, `shutdown took ${took} ms`);
    const client = peers.request(broker.endpoints.clients);
    // Closed sockets: nothing is listening, so a fresh connection's request never gets an answer.
    client.receiveTimeout = 100;
    await client.send("anyone?");
    await assert.rejects(client.receive(), /not possible or timed out/);
  });
});
