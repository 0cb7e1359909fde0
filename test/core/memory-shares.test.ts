/**
 * §Memory budget: what shedding cannot free has octet bounds of its own — the tasks waiting for services no worker
 * serves, and the results kept for idempotency keys — sized from --max-memory (core/memory-budget.ts).
 */
import assert from "node:assert/strict";
import { Harness, firstTask, onlyReply, replies } from "./harness";
import { budgetProblem, DEFAULT_OCTET_BOUNDS, LOAD_RESERVE, MEMORY, octetBounds, SHARES } from "../../broker/src/core/memory-budget";
import { FRAME_COST } from "../../broker/src/core/retention";

const MB = 1024 * 1024;
const KB = 1024;

describe("core: octet bounds of what shedding cannot free (§Memory budget)", () => {
  it("refuses a task for a service nobody serves with queue-full once such tasks hold unservedBytes, and takes others", () => {
    const task = 4 * KB + FRAME_COST;
    const h = new Harness({ unservedBytes: 2 * task });
    assert.deepEqual(replies(h.request("c", "x".repeat(4 * KB), { service: "invented-1" })), []);
    assert.deepEqual(replies(h.request("c", "x".repeat(4 * KB), { service: "invented-2" })), []);
    const refused = onlyReply(h.request("c", "x".repeat(4 * KB), { service: "invented-3" }));
    assert.equal(refused.detail.reason, "queue-full");
    assert.match(refused.detail.message ?? "", /no worker serves "invented-3", and tasks for services nobody serves already hold 8992 octets/);
    h.ready("w1", { services: ["served"] });
    assert.deepEqual(replies(h.request("c", "x".repeat(64 * KB), { service: "served" })), [], "a served service is not bounded by it");
    h.ready("w2", { services: ["invented-1"] });
    assert.deepEqual(replies(h.request("c", "x".repeat(4 * KB), { service: "invented-4" })), [], "invented-1 is served now: room for one");
  });

  it("stops keeping the oldest keyed results once they hold keptBytes: a resend of its key makes a new task", () => {
    const h = new Harness({ keepResults: 60_000, keptBytes: 10 * KB });
    h.ready("w1", { capacity: 1 });
    for (const key of ["k1", "k2", "k3"]) {
      const id = firstTask(h.request("c", "x".repeat(3 * KB), { id: key, key }));
      h.result("w1", id, "y".repeat(KB));
    }
    // Each kept result costs 3 KB + 1 KB + 2 frames x FRAME_COST: two fit in 10 KB, the third pushed out the first.
    const again = h.request("c", "x".repeat(3 * KB), { id: "k3-again", key: "k3" });
    assert.equal(onlyReply(again).detail.duplicate, true, "the newest is still kept");
    const before = h.counters().requests;
    h.request("c", "x".repeat(3 * KB), { id: "k1-again", key: "k1" });
    assert.equal(h.counters().requests, before + 1, "the oldest is no longer kept: a new task");
  });
});

describe("--max-memory: octet bounds as shares of the room below 70 % (§Memory budget)", () => {
  it("sizes the bounds the operator left out from the room, and keeps the ones given", () => {
    const room = MEMORY.plannedAt * 256 * MB - 64 * MB - LOAD_RESERVE;
    const bounds = octetBounds({ maxUnsent: 5 * MB }, 256 * MB, 64 * MB);
    assert.equal(bounds.historyBytes, Math.floor(room * SHARES.history));
    assert.equal(bounds.maxUnsentTotal, Math.floor(room * SHARES.unsentTotal));
    assert.equal(bounds.maxUnsent, 5 * MB, "given");
    assert.equal(bounds.unservedBytes, Math.floor(room * SHARES.unserved));
    assert.equal(bounds.keptBytes, Math.floor(room * SHARES.kept));
  });

  it("never exceeds the defaults, and adds no bound without a budget", () => {
    assert.deepEqual(octetBounds({}, undefined, 64 * MB), DEFAULT_OCTET_BOUNDS);
    const huge = octetBounds({}, 64 * 1024 * MB, 64 * MB);
    assert.equal(huge.historyBytes, DEFAULT_OCTET_BOUNDS.historyBytes);
    assert.equal(huge.maxUnsentTotal, DEFAULT_OCTET_BOUNDS.maxUnsentTotal);
    assert.equal(huge.maxUnsent, DEFAULT_OCTET_BOUNDS.maxUnsent);
  });

  it("refuses a budget that leaves the broker no room, naming the least that works", () => {
    assert.equal(budgetProblem(192 * MB, 71 * MB), undefined);
    const problem = budgetProblem(150 * MB, 71 * MB) ?? "";
    assert.match(problem, /^--max-memory 150 MiB is too small: the broker uses 71 MiB before any peer connects and 24 MiB more under load/);
    const least = Number(/give at least (\d+)M/.exec(problem)?.[1]);
    assert.equal(budgetProblem(least * MB, 71 * MB), undefined, "the least it names works");
  });
});
