/**
 * protocol/spec.md §Limits, whole-message bounds: `--max-message` bounds all the frames of a message together and
 * `--max-frames` their number, on every endpoint of a real `ztb broker`. libzmq's ZMQ_MAXMSGSIZE only sees one frame
 * at a time, so 200 000 empty frames (0.4 MB on the wire, ~80 MB once zeromq.js has made a Buffer of each) or 64
 * frames of 65 436 octets under `--max-message 65536` used to be accepted. Each is refused with ZTB_ERR_TOO_LARGE,
 * answered as §What the receiver does says for its endpoint, and a canary client keeps getting its replies.
 */
import assert from "node:assert/strict";
import { Dealer, Push } from "zeromq";
import { Client } from "../../broker/src/client";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, peakResidentBytes, residentBytes, spawnBroker } from "../chaos/broker-process";
import { json, receiveCommand, snapshotCounters, texts } from "../server/harness";

const MAX_MESSAGE = 65_536;
/** Far over the default --max-frames (256), each frame empty: only the count is wrong. */
const MANY_EMPTY = 200_000;
/** Each frame passes ZMQ_MAXMSGSIZE (65 536); together they are 64 times over --max-message. */
const BIG_FRAMES = Array.from({ length: 64 }, () => Buffer.alloc(65_436, 0x62));
/** Decoding 200 000 frames on a loaded 2-core machine takes a while: generous, and only a bound on waiting. */
const ATTACK_RECEIVE_TIMEOUT = 20_000;

const empty = (count: number): Buffer[] => Array.from({ length: count }, () => Buffer.alloc(0));
const attacks: { name: string; body: () => Buffer[] }[] = [
  { name: "200 000 empty frames", body: () => empty(MANY_EMPTY) },
  { name: "64 frames of 65 436 octets", body: () => BIG_FRAMES },
];

describe("limits: whole-message bounds (--max-message, --max-frames) on a real broker", function () {
  this.timeout(120_000);
  let broker: BrokerProcess;
  let worker: Worker;
  let canary: Client;
  let canaryRunning = true;
  let canaryLoop: Promise<number>;
  let rssBefore = 0;
  const sockets: (Dealer | Push)[] = [];

  const dealer = (endpoint: string): Dealer => {
    const socket = new Dealer({ linger: 0, receiveTimeout: ATTACK_RECEIVE_TIMEOUT });
    socket.connect(endpoint);
    sockets.push(socket);
    return socket;
  };

  before(async () => {
    broker = await spawnBroker(["--max-message", String(MAX_MESSAGE), "--log-level", "error"]);
    worker = new Worker({ endpoint: broker.endpoints.workers, name: "echo", handler: (task) => Promise.resolve(task.payload) });
    const registered = new Promise<void>((resolve) => worker.on("status", (s) => s.type === "ready" && resolve()));
    worker.start();
    await registered;
    rssBefore = residentBytes(broker.pid) ?? 0;
    canary = new Client({ endpoint: broker.endpoints.clients, deadline: 30_000 });
    // One request after another for the whole suite: every one must come back, whatever the attackers send.
    canaryLoop = (async () => {
      let answered = 0;
      while (canaryRunning) {
        const reply = await canary.request([`canary-${answered}`]);
        assert.equal(reply.status, "succeeded", `canary ${answered}: ${reply.reason ?? ""}`);
        assert.equal(Buffer.from(reply.payload[0] ?? []).toString(), `canary-${answered}`);
        answered++;
      }
      return answered;
    })();
  });

  after(async () => {
    canaryRunning = false;
    await canaryLoop.catch(() => undefined);
    canary.close();
    await worker.close();
    for (const socket of sockets.splice(0)) socket.close();
    await broker.stop();
  });

  for (const attack of attacks) {
    it(`an enveloped REQUEST of ${attack.name} gets REPLY failed/malformed ZTB_ERR_TOO_LARGE`, async () => {
      const client = dealer(broker.endpoints.clients);
      await client.send(["", "ZTBC01", "REQUEST", JSON.stringify({ id: "huge" }), ...attack.body()]);
      const reply = await client.receive();
      assert.deepEqual(texts(reply.slice(0, 3)), ["", "ZTBC01", "REPLY"]);
      const detail = json(reply[3]);
      assert.deepEqual([detail.status, detail.reason, detail.error], ["failed", "malformed", "ZTB_ERR_TOO_LARGE"]);
      assert.equal(reply.length, 4, "a failed REPLY carries no payload");
    });

    it(`a plain request of ${attack.name} gets the plain failure`, async () => {
      const client = dealer(broker.endpoints.clients);
      await client.send(["", "plain", ...attack.body()]);
      assert.deepEqual(texts(await client.receive()), ["", ""]);
    });

    it(`a worker's RESULT of ${attack.name} gets DISCONNECT protocol-error ZTB_ERR_TOO_LARGE`, async () => {
      const rogue = dealer(broker.endpoints.workers);
      await rogue.send(["", "ZTBW01", "READY", JSON.stringify({ name: "rogue", capacity: 1, heartbeat: 1000, services: ["nobody"] })]);
      await receiveCommand(rogue, "HEARTBEAT");
      await rogue.send(["", "ZTBW01", "RESULT", "no-such-task", ...attack.body()]);
      const disconnect = await receiveCommand(rogue, "DISCONNECT");
      assert.deepEqual(json(disconnect[3]), { reason: "protocol-error", message: "ZTB_ERR_TOO_LARGE" });
    });

    it(`a monitor's SNAPSHOT of ${attack.name} gets ERROR malformed ZTB_ERR_TOO_LARGE`, async () => {
      const monitor = dealer(broker.endpoints.admin);
      await monitor.send(["", "ZTBA01", "SNAPSHOT", "{}", ...attack.body()]);
      const reply = await monitor.receive();
      assert.deepEqual(texts(reply.slice(0, 3)), ["", "ZTBA01", "ERROR"]);
      const error = json(reply[3]);
      assert.equal(error.code, "malformed");
      assert.match(String(error.message), /^ZTB_ERR_TOO_LARGE/);
    });

    it(`a legacy answer of ${attack.name} is counted as malformed and dropped`, async () => {
      const admin = dealer(broker.endpoints.admin);
      const before = (await snapshotCounters(admin)).malformed.answers;
      const push = new Push({ linger: 0 });
      sockets.push(push);
      push.connect(broker.endpoints.answers);
      await push.send(["no-such-task", ...attack.body()]);
      // Wait for the count to move (no sleep): the PULL socket has no one to answer.
      for (;;) {
        const counters = await snapshotCounters(admin);
        if (counters.malformed.answers > before) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
  }

  it("counted every refusal, created no task from any of them, and the canary was answered throughout", async () => {
    canaryRunning = false;
    const answered = await canaryLoop;
    const counters = await snapshotCounters(dealer(broker.endpoints.admin));
    assert.deepEqual(counters.malformed, { client: 2 * attacks.length, worker: attacks.length, answers: attacks.length, admin: attacks.length });
    assert.ok(answered > 0, "the canary ran");
    assert.equal(counters.requests, answered, "only the canary's requests became tasks");
    // Refused messages are not kept, but receiving them is not free (spec §Limits says what the bounds do not cover).
    const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
    const peak = peakResidentBytes(broker.pid) ?? 0;
    console.log(`      canary: ${answered} requests answered during the attacks; broker RSS before ${mib(rssBefore)}, peak ${mib(peak)}`);
  });
});
