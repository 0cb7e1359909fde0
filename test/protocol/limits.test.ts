/** The limits module reads its bounds from protocol/schemas; the spec's prose states the same numbers. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CAPACITY,
  HEARTBEAT,
  LEASE,
  LIVENESS,
  MAX_CORRELATION_ID,
  MAX_FAIL_MESSAGE,
  MAX_KEY,
  MAX_NAME,
  MAX_SERVICES,
  PAGE,
  inHeartbeatRange,
} from "../../broker/src/protocol/limits";

const SPEC = readFileSync(join(__dirname, "../../../protocol/spec.md"), "utf8");

describe("protocol limits (one home, from the schemas)", () => {
  it("has the schemas' bounds", () => {
    assert.deepEqual({ ...HEARTBEAT }, { min: 100, max: 60000 });
    assert.deepEqual({ ...CAPACITY }, { min: 1, max: 1000 });
    assert.deepEqual([MAX_NAME, MAX_SERVICES, MAX_CORRELATION_ID, MAX_KEY, MAX_FAIL_MESSAGE], [64, 32, 128, 128, 1024]);
    assert.deepEqual({ ...PAGE }, { max: 500, default: 100 });
    assert.deepEqual({ ...LEASE }, { min: 1000, max: 60000, default: 10000 });
  });

  it("matches the spec's prose", () => {
    const has = (text: string): void => assert.ok(SPEC.includes(text), `protocol/spec.md does not say ${JSON.stringify(text)}`);
    has(`\`capacity\` an integer ${CAPACITY.min}..${CAPACITY.max}`);
    has(`\`heartbeat\` an integer ${HEARTBEAT.min}..${HEARTBEAT.max}`);
    has(`array of 1..${MAX_SERVICES} distinct names`);
    has(`"name" means a string of 1..${MAX_NAME} characters`);
    has(`| correlation id | | 1..${MAX_CORRELATION_ID} characters |`);
    has(`| FAIL and DISCONNECT message | | 0..${MAX_FAIL_MESSAGE} characters |`);
    has(`int ms ${LEASE.min}..${LEASE.max} (default ${LEASE.default})`);
    has(`"limit"?: int 1..${PAGE.max} (default ${PAGE.default})`);
    has(`${LIVENESS} × *the other side's* most recently`);
  });

  it("applies a heartbeat interval only within its range (§Heartbeating rule 4)", () => {
    assert.deepEqual([99, 100, 60000, 60001].map(inHeartbeatRange), [false, true, true, false]);
  });
});
