/**
 * The crash-point test (protocol/spec.md §Durability): a durable `ztb broker` is killed right after a random number
 * of journal commits (the ZTB_FAILPOINT_CRASH_AFTER_COMMITS failpoint: after the commit, before that turn's sends),
 * round after round on the same journal, under load from keyed clients that resend and from enveloped clients with
 * routing ids that never resend. After the last round a broker without failpoint finishes the work. Checked:
 * - every key is answered, and every reply for one key names the same task and carries the same result;
 * - every request of a routed client that the journal held when its broker died is answered, once, with its own
 *   result (a request the journal did not hold was never acknowledged: that client sends it again on a new socket);
 * - an attempt number is never given twice to one task (attempts are counted across crashes, never reset).
 * The seed is printed; ZTB_CRASH_SEED=<seed> replays the same kill points (ZTB_CRASH_ROUNDS sets the rounds).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client, ClientTimeoutError } from "../../broker/src/client";
import { SqliteJournal } from "../../broker/src/store/sqlite-journal";
import { Worker } from "../../broker/src/worker";
import { seededRandom } from "../chaos/behaviour";
import { type BrokerEndpoints, type BrokerProcess, spawnBroker } from "../chaos/broker-process";

const ROUNDS = Number(process.env.ZTB_CRASH_ROUNDS ?? 50);
const SEED = Number(process.env.ZTB_CRASH_SEED ?? Date.now() % 1_000_000);
const KEYED_CLIENTS = 4;
const ROUTED_CLIENTS = 3;
const ARGS = ["-t", "50", "-T", "3", "--heartbeat", "100", "--log-level", "error"];


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `done`, polling; after 30 s fails with `what` and the state `describe` gives. */
async function waitFor(what: string, done: () => boolean, describe: () => string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!done()) {
    if (Date.now() > end) assert.fail(`waited 30 s until ${what}: ${describe()}`);
    await sleep(20);
  }
}
const text = (frame: Uint8Array | undefined): string => Buffer.from(frame ?? []).toString();

describe("durability: SIGKILL at random journal commits, round after round (crash-point test)", function () {
  this.timeout(600_000);
  let dir: string;
  const closers: (() => unknown)[] = [];
  let broker: BrokerProcess | undefined;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-crash-points-"));
    console.log(`      crash points: seed ${SEED}, ${ROUNDS} rounds (replay: ZTB_CRASH_SEED=${SEED})`);
  });
  after(async () => {
    for (const close of closers.splice(0)) await close();
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("loses no accepted request, answers no key twice differently, never reuses an attempt number", async () => {
    const rand = seededRandom(SEED);
    const attemptsSeen = new Map<string, Set<number>>();
    let reusedAttempt = "";
    let stopping = false;

    // Life 0 picks the endpoints; every later life binds the same ones.
    broker = await spawnBroker(["--data", dir, ...ARGS], undefined, { env: { ZTB_FAILPOINT_CRASH_AFTER_COMMITS: String(1 + Math.floor(rand() * 40)) } });
    const endpoints: BrokerEndpoints = broker.endpoints;

    const workers = [0, 1].map((n) => {
      const worker = new Worker({
        endpoint: endpoints.workers,
        name: `w${n}`,
        capacity: 3,
        heartbeat: 100,
        reconnect: { initial: 10, max: 100 },
        handler: async (task) => {
          const seen = attemptsSeen.get(task.id) ?? new Set<number>();
          if (seen.has(task.attempt)) reusedAttempt ||= `${task.id} attempt ${task.attempt}`;
          seen.add(task.attempt);
          attemptsSeen.set(task.id, seen);
          await sleep(Math.floor(rand() * 5));
          return [Buffer.from(`done ${text(task.payload[0])}`)];
        },
      });
      worker.start();
      return worker;
    });
    closers.push(...workers.map((w) => () => w.close()));

    // Keyed clients: each key is sent until answered, on a new socket per try, the same key every time.
    const keyed = new Map<string, { task: string; result: string }[]>();
    let keysDone = 0;
    const keyedClient = async (c: number): Promise<void> => {
      for (let n = 0; !stopping; n++) {
        const key = `k${c}-${n}`;
        const replies: { task: string; result: string }[] = [];
        keyed.set(key, replies);
        while (replies.length === 0) {
          const client = new Client({ endpoint: endpoints.clients, deadline: 700 });
          try {
            const reply = await client.request([Buffer.from(key)], { key });
            replies.push({ task: reply.task ?? "", result: text(reply.payload[0]) });
          } catch (err) {
            if (!(err instanceof ClientTimeoutError)) throw err;
          } finally {
            client.close();
          }
        }
        keysDone++;
      }
    };

    // Clients with routing ids that never resend: after a crash, a request the journal did not hold is sent again
    // from a new socket (it was never acknowledged); one the journal held must be answered on the old one.
    const routedAnswers: string[] = [];
    const routedPending = new Map<number, { payload: string; client: Client; reply: Promise<string | undefined> }>();
    let routedId = 0;
    let duplicates = 0;
    const routedSend = (c: number, payload: string): void => {
      const client = new Client({ endpoint: endpoints.clients, routingId: `routed-${c}-${routedId++}`, deadline: 600_000 });
      closers.push(() => client.close());
      // Closing the client of a request that was never journaled ends it: that is no answer.
      const reply = client.request([Buffer.from(payload)]).then((r) => text(r.payload[0]), () => undefined);
      routedPending.set(c, { payload, client, reply });
    };
    const routedClient = async (c: number): Promise<void> => {
      for (let n = 0; !stopping; n++) {
        routedSend(c, `r${c}-${n}`);
        for (;;) {
          const pending = routedPending.get(c);
          if (pending === undefined) break;
          const answer = await pending.reply;
          if (routedPending.get(c) !== pending) continue; // replaced after a crash: wait for the new one
          assert.equal(answer, `done ${pending.payload}`, "a client got another request's reply");
          duplicates += pending.client.stats.duplicates;
          routedAnswers.push(pending.payload);
          pending.client.close();
          routedPending.delete(c);
        }
      }
    };

    const load = [
      ...Array.from({ length: KEYED_CLIENTS }, (_, c) => keyedClient(c)),
      ...Array.from({ length: ROUTED_CLIENTS }, (_, c) => routedClient(c)),
    ];
    let unacknowledged = 0;
    const trace = process.env.ZTB_CRASH_TRACE === undefined ? () => undefined : (line: string) => console.log(`      ${line}`);
    for (let round = 1; round <= ROUNDS; round++) {
      const life = broker;
      await life.exited; // the failpoint kills it
      trace(`round ${round}: killed; keys ${keysDone}, routed answers ${routedAnswers.length}`);
      // What did the journal hold? Only a request it held was acknowledged to anyone.
      const journal = SqliteJournal.open(dir, { fsync: "off" });
      const held = new Set(journal.read().tasks.map((t) => text(t.payload[0])));
      journal.close();
      for (const [c, pending] of [...routedPending]) {
        if (held.has(pending.payload)) continue;
        unacknowledged++;
        routedSend(c, pending.payload);
        pending.client.close();
      }
      const env = round < ROUNDS ? { ZTB_FAILPOINT_CRASH_AFTER_COMMITS: String(1 + Math.floor(rand() * 40)) } : undefined;
      broker = await spawnBroker(["--data", dir, ...ARGS], endpoints, env === undefined ? {} : { env });
    }
    // The last life has no failpoint: let the load run a little on it, then drain.
    const target = keysDone + 20;
    await waitFor("the last broker answers 20 more keys", () => keysDone >= target, () => "");
    stopping = true;
    let settled = false;
    const drained = Promise.all(load).then(() => (settled = true));
    await waitFor("every client has its last reply", () => settled, () =>
      `routed requests still unanswered: ${[...routedPending.values()].map((p) => p.payload).join(", ")}; ` +
      `keys unanswered: ${[...keyed].filter(([, r]) => r.length === 0).map(([k]) => k).join(", ")}`);
    await drained;

    assert.equal(reusedAttempt, "", `an attempt number was given twice: ${reusedAttempt}`);
    for (const [key, replies] of keyed) {
      assert.ok(replies.length >= 1, `${key} never answered`);
      for (const reply of replies) {
        assert.equal(reply.task, replies[0]?.task, `${key}: two tasks`);
        assert.equal(reply.result, `done ${key}`, `${key}: wrong result`);
      }
    }
    assert.equal(new Set(routedAnswers).size, routedAnswers.length, "a request answered twice");
    assert.equal(duplicates, 0, "a client received a second reply that was not marked resent");
    console.log(
      `      ${ROUNDS} kills: ${keyed.size} keys and ${routedAnswers.length} routed requests answered; ` +
        `${unacknowledged} routed requests were in flight but not yet journaled at a kill (sent again); ` +
        `${[...attemptsSeen.values()].filter((s) => s.size > 1).length} tasks ran more than one attempt`,
    );
  });
});
