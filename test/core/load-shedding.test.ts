import assert from "node:assert/strict";
import { Harness, onlyReply, replies } from "./harness";
import { MEMORY } from "../../broker/src/core/memory-budget";

const MB = 1024 * 1024;

describe("core: load shedding under --max-memory (§Limits)", () => {
  it("refuses new requests with queue-full from 80 % of the budget, counting twice what came in since the last sample, and resumes after a second below 80 %", () => {
    const h = new Harness({ maxMemory: 100 * MB });
    h.in({ kind: "memory", rss: 60 * MB });
    assert.deepEqual(replies(h.request("c", "x".repeat(10 * MB))), [], "60 MB sampled: accepted");
    const refused = onlyReply(h.request("c", "small"));
    assert.equal(refused.detail.reason, "queue-full", "60 MB + 2 x 10 MB taken in since: 80 %");
    assert.match(refused.detail.message ?? "", /80 % of its memory budget \(--max-memory\)/);
    assert.equal(h.core.snapshot({}, h.now).broker.memory?.shedding, true);
    h.in({ kind: "memory", rss: 75 * MB });
    h.advance(MEMORY.calmFor - 1);
    h.in({ kind: "memory", rss: 75 * MB });
    assert.equal(onlyReply(h.request("c", "small")).detail.reason, "queue-full", "below 80 % for less than a second: still shedding");
    h.in({ kind: "memory", rss: 85 * MB });
    h.advance(MEMORY.calmFor);
    assert.equal(onlyReply(h.request("c", "small")).detail.reason, "queue-full", "back over 80 %: the calm second starts again");
    h.in({ kind: "memory", rss: 75 * MB });
    h.advance(MEMORY.calmFor);
    h.in({ kind: "memory", rss: 75 * MB });
    assert.deepEqual(replies(h.request("c", "small")), [], "a second below 80 %: accepted again");
    assert.deepEqual(h.core.snapshot({}, h.now).broker.memory, { budget: 100 * MB, rss: 75 * MB, shedding: false });
    const lines = h.log.filter((o) => o.kind === "log" && (o.event === "shedding-load" || o.event === "load-shedding-ended"));
    assert.deepEqual(lines.map((o) => (o.kind === "log" ? o.event : "")), ["shedding-load", "load-shedding-ended"]);
  });

  it("sheds on the memory it holds from 80 %, and on resident memory (libzmq's buffers, the allocator's reserve) only from 90 %", () => {
    const h = new Harness({ maxMemory: 100 * MB });
    h.in({ kind: "memory", rss: 89 * MB, live: 50 * MB });
    assert.deepEqual(replies(h.request("c", "small")), [], "resident 89 %, held 50 %: accepted");
    h.in({ kind: "memory", rss: 90 * MB, live: 50 * MB });
    assert.equal(onlyReply(h.request("c", "small")).detail.reason, "queue-full", "resident 90 %");
    h.advance(MEMORY.calmFor);
    h.in({ kind: "memory", rss: 85 * MB, live: 80 * MB });
    const refused = onlyReply(h.request("c", "small"));
    assert.equal(refused.detail.reason, "queue-full", "held 80 %");
    assert.match(refused.detail.message ?? "", /holds 80 % of its memory budget \(--max-memory\), resident 85 %/);
    assert.deepEqual(h.core.snapshot({}, h.now).broker.memory, { budget: 100 * MB, rss: 85 * MB, live: 80 * MB, shedding: true });
  });

  it("takes requests again once the memory it holds is low, though the allocator keeps the resident memory high", () => {
    // Measured (test/limits/max-memory): once a flood of small requests expired, resident 87 %, held 55 %.
    const h = new Harness({ maxMemory: 100 * MB });
    h.in({ kind: "memory", rss: 88 * MB, live: 81 * MB });
    assert.equal(onlyReply(h.request("c", "small")).detail.reason, "queue-full");
    for (let ms = 0; ms <= MEMORY.calmFor; ms += 100) {
      h.advance(100);
      h.in({ kind: "memory", rss: 87 * MB, live: 55 * MB });
    }
    assert.deepEqual(replies(h.request("c", "small")), [], "refused though it held 55 % for a second");
  });

  it("has no budget and no memory view without --max-memory", () => {
    const h = new Harness();
    h.in({ kind: "memory", rss: 10_000 * MB });
    assert.deepEqual(replies(h.request("c", "q")), []);
    assert.equal(h.core.snapshot({}, h.now).broker.memory, undefined);
  });
});
