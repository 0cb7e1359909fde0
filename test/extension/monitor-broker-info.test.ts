/**
 * The monitor child's `broker` action against a real broker with --max-memory: SNAPSHOT `broker` read on its own, as
 * the session does every few seconds, since EVENTs do not carry memory, load shedding or connections.
 */
import assert from "node:assert/strict";
import type { ActionResult, FromChild } from "../../extension/src/bridge/ipc";
import { connectionsOf, memoryOf } from "../../extension/src/model/broker-resources";
import { startBroker, type RunningBroker } from "../server/harness";
import { ChildUnderTest, isSnapshot } from "./monitor-child-harness";

type Answer = Extract<FromChild, { type: "action-result" | "action-error" }>;
const answerTo =
  (id: number) =>
  (m: FromChild): m is Answer =>
    (m.type === "action-result" || m.type === "action-error") && m.id === id;

describe("the extension's monitor child reads the broker's info on its own", () => {
  const budget = 2 ** 32;
  let broker: RunningBroker;
  let monitor: ChildUnderTest;

  beforeEach(async () => {
    broker = await startBroker({ maxMemory: budget });
    monitor = new ChildUnderTest();
  });

  afterEach(async () => {
    await monitor.kill();
    await broker.stop();
  });

  it("answers the broker action with SNAPSHOT broker and its time: memory against the budget, and connections", async () => {
    monitor.send({ type: "attach", admin: broker.endpoints.admin ?? assert.fail("the harness binds an admin endpoint") });
    const first = await monitor.next("snapshot", isSnapshot);
    monitor.send({ type: "action", id: 1, action: { kind: "broker" } });
    const answer = await monitor.next("the broker action's answer", answerTo(1));
    assert.equal(answer.type, "action-result", JSON.stringify(answer));
    const result: ActionResult = answer.result;
    assert.equal(result.kind, "broker");
    assert.equal(result.broker.version, "test");
    assert.ok(result.time >= first.snapshot.time);
    const memory = memoryOf(result.broker);
    assert.equal(memory?.budget, budget);
    assert.equal(memory?.shedding, false);
    assert.ok((memory?.rss ?? 0) > 0, "a resident-memory sample");
    // The monitor's two DEALERs (events, actions) are the broker's admin peers.
    const admin = connectionsOf(result.broker)?.find((c) => c.endpoint === "admin");
    assert.ok((admin?.peers ?? 0) + (admin?.handshakes ?? 0) >= 1, JSON.stringify(result.broker.connections));
  });
});
