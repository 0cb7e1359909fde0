/**
 * protocol/spec.md §Codec error codes at the socket boundary: malformed messages on every endpoint are counted
 * (admin SNAPSHOT counters.malformed), answered where the spec says so, and the broker keeps serving.
 */
import assert from "node:assert/strict";
import type { Dealer } from "zeromq";
import { json, Peers, type RunningBroker, snapshotCounters, startBroker, texts } from "./harness";

async function malformedCounters(admin: Dealer): Promise<Record<string, unknown>> {
  return (await snapshotCounters(admin)).malformed;
}

/** Polls SNAPSHOT until `done` holds (messages on different sockets have no mutual order), at most ~2 s. */
async function eventually(admin: Dealer, done: (malformed: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  for (let i = 0; i < 100; i++) {
    last = await malformedCounters(admin);
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return last;
}

describe("server: malformed messages", () => {
  let broker: RunningBroker;
  const peers = new Peers();

  beforeEach(async () => {
    broker = await startBroker();
  });
  afterEach(async () => {
    peers.closeAll();
    await broker.stop();
  });

  it("answers a malformed enveloped request with REPLY failed/malformed and the codec's code", async () => {
    const client = peers.dealer(broker.endpoints.clients);
    await client.send(["", "ZTBC01", "REQUEST", "{not json"]);
    const reply = await client.receive();
    assert.deepEqual(texts(reply.slice(0, 3)), ["", "ZTBC01", "REPLY"]);
    const detail = json(reply[3]);
    assert.equal(detail.status, "failed");
    assert.equal(detail.reason, "malformed");
    assert.equal(detail.error, "ZTB_ERR_BAD_JSON");

    await client.send(["", "ZTBC07", "REQUEST", "{}"]);
    assert.equal(json((await client.receive())[3]).error, "ZTB_ERR_VERSION");
  });

  it("disconnects a worker that sends an unknown command", async () => {
    const worker = peers.dealer(broker.endpoints.workers);
    await worker.send(["", "ZTBW01", "BOGUS"]);
    const reply = await worker.receive();
    assert.deepEqual(texts(reply.slice(0, 3)), ["", "ZTBW01", "DISCONNECT"]);
    if (reply[3] !== undefined) assert.equal(json(reply[3]).reason, "protocol-error");
  });

  it("counts bad messages on all four endpoints and still serves a round trip", async () => {
    const admin = peers.dealer(broker.endpoints.admin ?? "");
    const client = peers.dealer(broker.endpoints.clients);
    const worker = peers.dealer(broker.endpoints.workers);
    const answers = peers.push(broker.endpoints.answers);

    await client.send(["no delimiter"]); // ZTB_ERR_DELIMITER: nothing to answer
    await worker.send(["", "two", "frames"]); // neither legacy (1 frame) nor modern
    await answers.send([Buffer.alloc(256, 0x61), "answer"]); // task id over 255 octets
    await admin.send(["", "ZTBA01", "SNAPSHOT", "[1]"]);
    const error = await admin.receive();
    assert.equal(error[2]?.toString(), "ERROR");
    assert.equal(json(error[3]).code, "malformed");

    const counted = await eventually(admin, (m) => [m.client, m.worker, m.answers, m.admin].every((n) => n === 1));
    assert.deepEqual(counted, { client: 1, worker: 1, answers: 1, admin: 1 });

    const legacy = peers.request(broker.endpoints.workers);
    const plain = peers.request(broker.endpoints.clients);
    await legacy.send("requesting task");
    await plain.send("still there?");
    const [task] = await legacy.receive();
    await answers.send([task ?? "", "yes"]);
    assert.deepEqual(texts(await plain.receive()), ["yes"]);
  });
});
