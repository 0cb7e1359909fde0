/**
 * protocol/spec.md §What the receiver does: bad messages are logged at most once per second per endpoint and code,
 * whatever the peers, and the next line says how many were suppressed. (Regression: the core limited per peer, so a
 * flood from many connections logged one line per connection, and it never reported what it had suppressed.)
 */
import assert from "node:assert/strict";
import type { Output } from "../../broker/src/core/api";
import { Harness } from "./harness";

type LogLine = Extract<Output, { kind: "log" }>;

describe("core: rate-limited logs of bad messages", () => {
  const lines = (h: Harness, event: string): LogLine[] =>
    h.log.filter((o): o is LogLine => o.kind === "log" && o.event === event);

  it("logs one line per endpoint and code per second across many peers, then the count it suppressed", () => {
    const h = new Harness();
    const bad = (peer: string, code: string) => h.in({ kind: "malformed", endpoint: "clients", peer, code, detail: "" });
    for (let i = 0; i < 50; i++) bad(`peer-${i}`, "ZTB_ERR_BAD_JSON");
    bad("peer-0", "ZTB_ERR_SCHEMA");
    assert.equal(lines(h, "malformed-ZTB_ERR_BAD_JSON").length, 1);
    assert.equal(lines(h, "malformed-ZTB_ERR_SCHEMA").length, 1);
    assert.equal(lines(h, "malformed-ZTB_ERR_BAD_JSON")[0]?.fields.peer, "peer-0");
    assert.equal(lines(h, "malformed-ZTB_ERR_BAD_JSON")[0]?.fields.suppressed, undefined);

    h.advance(1000);
    bad("peer-77", "ZTB_ERR_BAD_JSON");
    const [, second] = lines(h, "malformed-ZTB_ERR_BAD_JSON");
    assert.equal(second?.fields.suppressed, 49);
    assert.equal(second?.fields.peer, "peer-77");
    assert.equal(h.counters().malformed.client, 52);
  });

  it("limits each endpoint separately", () => {
    const h = new Harness();
    h.in({ kind: "malformed", endpoint: "admin", peer: "m", code: "ZTB_ERR_EMPTY", detail: "" });
    h.in({ kind: "malformed", endpoint: "answers", code: "ZTB_ERR_EMPTY", detail: "" });
    assert.equal(lines(h, "malformed-ZTB_ERR_EMPTY").length, 2);
  });
});
