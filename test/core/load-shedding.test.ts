import assert from "node:assert/strict";
import { Harness, onlyReply, replies } from "./harness";

const MB = 1024 * 1024;

describe("core: load shedding under --max-memory (§Limits)", () => {
  it("refuses new requests with queue-full from 80 % of the budget, counting twice what came in since the last sample, and resumes below 70 %", () => {
    const h = new Harness({ maxMemory: 100 * MB });
    h.in({ kind: "memory", rss: 60 * MB });
    assert.deepEqual(replies(h.request("c", "x".repeat(10 * MB))), [], "60 MB sampled: accepted");
    const refused = onlyReply(h.request("c", "small"));
    assert.equal(refused.detail.reason, "queue-full", "60 MB + 2 x 10 MB taken in since: 80 %");
    assert.match(refused.detail.message ?? "", /80 % of its memory budget \(--max-memory\)/);
    assert.equal(h.core.snapshot({}, h.now).broker.memory?.shedding, true);
    h.in({ kind: "memory", rss: 75 * MB });
    assert.equal(onlyReply(h.request("c", "small")).detail.reason, "queue-full", "between 70 % and 80 %: still shedding");
    h.in({ kind: "memory", rss: 65 * MB });
    assert.deepEqual(replies(h.request("c", "small")), [], "below 70 %: accepted again");
    assert.deepEqual(h.core.snapshot({}, h.now).broker.memory, { budget: 100 * MB, rss: 65 * MB, shedding: false });
    const lines = h.log.filter((o) => o.kind === "log" && (o.event === "shedding-load" || o.event === "load-shedding-ended"));
    assert.deepEqual(lines.map((o) => (o.kind === "log" ? o.event : "")), ["shedding-load", "load-shedding-ended"]);
  });

  it("has no budget and no memory view without --max-memory", () => {
    const h = new Harness();
    h.in({ kind: "memory", rss: 10_000 * MB });
    assert.deepEqual(replies(h.request("c", "q")), []);
    assert.equal(h.core.snapshot({}, h.now).broker.memory, undefined);
  });
});
