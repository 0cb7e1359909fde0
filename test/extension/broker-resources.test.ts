/** The Broker view's Memory and Connections rows (issue 14), read from SNAPSHOT `broker` as the broker sends it. */
import assert from "node:assert/strict";
import type { BrokerInfo, Snapshot } from "../../broker/src/protocol/messages";
import { BrokerModel } from "../../extension/src/model/broker-model";
import { connectionsOf, memoryOf, sheddingChange, sheddingWarning } from "../../extension/src/model/broker-resources";
import { allContextValues } from "../../extension/src/model/context-values";
import { brokerRootNodes, type BrokerViewInput, type TreeNode } from "../../extension/src/model/tree-model";
import { snapshot } from "./fixtures";

const MiB = 2 ** 20;

/** A snapshot whose `broker` has these members too; unknown ones as a newer broker would send them. */
function withBroker(over: Record<string, unknown>): Snapshot {
  const base = snapshot();
  return { ...base, broker: { ...base.broker, ...over } as BrokerInfo };
}

function roots(s: Snapshot, state: BrokerViewInput["state"] = "running"): TreeNode[] {
  const model = new BrokerModel(100);
  model.applySnapshot(s);
  return brokerRootNodes({ state, owned: false, model, admin: "tcp://127.0.0.1:4164", lastError: undefined });
}

const row = (nodes: TreeNode[], id: string): TreeNode | undefined => nodes.find((n) => n.id === id);

describe("extension broker resources: memory", () => {
  const budget = 192 * MiB;

  it("shows used of budget with a percentage, under the broker's state and before the groups", () => {
    const nodes = roots(withBroker({ memory: { budget, rss: 120 * MiB, shedding: false } }));
    const memory = row(nodes, "broker:memory");
    assert.equal(memory?.label, "Memory");
    assert.equal(memory?.description, "120 of 192 MiB (63 %)");
    assert.equal(memory?.contextValue, "brokerMemory");
    assert.deepEqual(memory?.icon, { id: "dashboard" });
    assert.match(memory?.tooltip ?? "", /--max-memory/);
    assert.match(memory?.tooltip ?? "", /New requests get queue-full while the broker holds 80 % of the budget or its resident memory reaches 90 %, until both stay under for a second/);
    assert.doesNotMatch(memory?.tooltip ?? "", /Shedding load now/);
    assert.deepEqual(nodes.map((n) => n.id), ["broker:status", "broker:memory", "broker:counters", "broker:endpoints", "broker:settings"]);
  });

  it("says it sheds load, in the warning colour, while the broker refuses new requests", () => {
    const memory = row(roots(withBroker({ memory: { budget, rss: 160 * MiB, shedding: true } })), "broker:memory");
    assert.equal(memory?.description, "160 of 192 MiB (83 %) · shedding load");
    assert.deepEqual(memory?.icon, { id: "warning", color: "list.warningForeground" });
    assert.match(memory?.tooltip ?? "", /Shedding load now: new requests are refused with queue-full/);
  });

  it("mentions the memory the broker holds when a newer broker says (live), and works without it", () => {
    const withLive = row(roots(withBroker({ memory: { budget, rss: 150 * MiB, live: 60 * MiB, shedding: false } })), "broker:memory");
    assert.match(withLive?.tooltip ?? "", /Of it, the broker holds 60 MiB \(live/);
    assert.equal(withLive?.description, "150 of 192 MiB (78 %)");
    const without = row(roots(withBroker({ memory: { budget, rss: 150 * MiB, shedding: false } })), "broker:memory");
    assert.doesNotMatch(without?.tooltip ?? "", /Of it, the broker holds/);
  });

  it("has no row without --max-memory, from an older broker, or with a malformed member", () => {
    assert.equal(row(roots(snapshot()), "broker:memory"), undefined);
    for (const memory of [null, "192M", { budget: "192M", rss: 1, shedding: false }, { budget, rss: 1 }, { budget: 0, rss: 0, shedding: false }]) {
      assert.equal(row(roots(withBroker({ memory })), "broker:memory"), undefined, JSON.stringify(memory));
    }
    assert.deepEqual(memoryOf(withBroker({ memory: { budget, rss: 1, live: "x", shedding: true } }).broker), { budget, rss: 1, shedding: true });
  });

  it("keeps the last known memory row while disconnected, as it keeps the cluster", () => {
    const nodes = roots(withBroker({ memory: { budget, rss: 160 * MiB, shedding: true } }), "disconnected");
    assert.equal(nodes[0]?.label, "Disconnected");
    assert.equal(row(nodes, "broker:memory")?.description, "160 of 192 MiB (83 %) · shedding load");
  });
});

describe("extension broker resources: connections", () => {
  it("counts connected peers per endpoint in the view's endpoint order", () => {
    const connections = { admin: { peers: 2, handshakes: 0 }, clients: { peers: 3, handshakes: 0 }, workers: { peers: 2, handshakes: 0 }, answers: { peers: 1, handshakes: 0 } };
    const item = row(roots(withBroker({ connections })), "broker:connections");
    assert.equal(item?.label, "Connections");
    assert.equal(item?.description, "clients 3 · workers 2 · answers 1 · admin 2");
    assert.equal(item?.contextValue, "brokerConnections");
    assert.equal(item?.tooltip?.split("\n").slice(1).join(" | "), "clients: 3 connected | workers: 2 connected | answers: 1 connected | admin: 2 connected");
  });

  it("adds the connections still in the ZeroMQ handshake when there are any", () => {
    const connections = { clients: { peers: 3, handshakes: 4 }, workers: { peers: 2, handshakes: 1 }, admin: { peers: 1, handshakes: 0 } };
    const item = row(roots(withBroker({ connections })), "broker:connections");
    assert.equal(item?.description, "clients 3 · workers 2 · admin 1 · 5 in handshake");
    assert.match(item?.tooltip ?? "", /^clients: 3 connected, 4 still in the ZeroMQ handshake$/m);
    assert.match(item?.tooltip ?? "", /^admin: 1 connected$/m);
  });

  it("sits after the memory row, and is absent from a broker that does not count", () => {
    const nodes = roots(withBroker({ memory: { budget: 512 * MiB, rss: 100 * MiB, shedding: false }, connections: { clients: { peers: 0, handshakes: 0 } } }));
    assert.deepEqual(nodes.slice(1, 3).map((n) => `${n.label}: ${n.description}`), ["Memory: 100 of 512 MiB (20 %)", "Connections: clients 0"]);
    assert.equal(row(roots(snapshot()), "broker:connections"), undefined);
    assert.equal(row(roots(withBroker({ connections: 7 })), "broker:connections"), undefined);
    assert.equal(row(roots(withBroker({ connections: {} })), "broker:connections")?.description, "none counted");
    // A malformed count reads as none, an unknown endpoint is skipped.
    assert.deepEqual(connectionsOf(withBroker({ connections: { clients: { peers: "3" }, metrics: { peers: 1 } } }).broker), [{ endpoint: "clients", peers: 0, handshakes: 0 }]);
  });

  it("uses only context values listed in context-values.ts", () => {
    const all = new Set(allContextValues());
    const nodes = roots(withBroker({ memory: { budget: MiB, rss: 0, shedding: true }, connections: { admin: { peers: 1, handshakes: 0 } } }));
    for (const node of nodes) assert.ok(all.has(node.contextValue), node.contextValue);
  });
});

describe("extension broker resources: load shedding episodes", () => {
  const budget = 192 * MiB;
  const reading = (shedding: boolean, over: Record<string, unknown> = {}): Snapshot => withBroker({ memory: { budget, rss: (shedding ? 160 : 100) * MiB, shedding }, ...over });

  /** Feeds snapshots to a model as the session does, and says what each one changed about shedding. */
  function episodes(readings: Snapshot[], model = new BrokerModel(100)): string[] {
    return readings.map((s) => {
      const before = model.broker();
      model.applySnapshot(s);
      return sheddingChange(before, model.broker())?.kind ?? "-";
    });
  }

  it("reports a start once per episode, not per snapshot, and its end", () => {
    assert.deepEqual(
      episodes([false, true, true, true, false, false, true, false].map((shedding) => reading(shedding))),
      ["-", "started", "-", "-", "ended", "-", "started", "ended"],
    );
  });

  it("counts a broker found shedding at attach as a start, and a broker restarted behind the endpoint as a new one", () => {
    assert.deepEqual(episodes([reading(true), reading(true)]), ["started", "-"]);
    assert.deepEqual(episodes([reading(true), reading(true, { startedAt: snapshot().broker.startedAt + 5000 })]), ["started", "started"]);
  });

  it("reports nothing for a broker without --max-memory, or one that lost it across a restart", () => {
    assert.deepEqual(episodes([snapshot(), snapshot()]), ["-", "-"]);
    assert.deepEqual(episodes([reading(true), withBroker({ startedAt: 1 })]), ["started", "-"]);
    assert.equal(sheddingChange(undefined, undefined), undefined);
  });

  it("carries the memory reading that started it, for the warning's text", () => {
    const change = sheddingChange(reading(false).broker, reading(true).broker);
    assert.deepEqual(change, { kind: "started", memory: { budget, rss: 160 * MiB, shedding: true } });
    assert.equal(
      sheddingWarning(change.memory),
      "ZeroMQ Broker is near its memory budget (--max-memory 192 MiB): new requests are refused with queue-full",
    );
  });
});
