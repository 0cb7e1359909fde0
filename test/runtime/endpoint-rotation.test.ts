/** Which broker a failing-over client tries next, and how long it waits (protocol/spec.md §Failing over). */
import assert from "node:assert/strict";
import { EndpointRotation } from "../../broker/src/client/rotation";

const noJitter = (): number => 0;

describe("client failover: endpoint rotation", () => {
  it("goes round the endpoints in order, at once until each has been tried since the last reply, then backs off", () => {
    const rotation = new EndpointRotation(["a", "b", "c"], {}, noJitter);
    assert.equal(rotation.current, "a");
    const moves = Array.from({ length: 7 }, () => rotation.advance());
    assert.deepEqual(
      moves.map((m) => `${m.endpoint}+${m.delay}`),
      ["b+0", "c+0", "a+100", "b+200", "c+400", "a+800", "b+1600"],
    );
  });

  it("a reply resets both the round and the back-off; the delay stops at the ceiling", () => {
    const rotation = new EndpointRotation(["a", "b"], { initial: 100, max: 300 }, noJitter);
    assert.deepEqual([1, 2, 3, 4].map(() => rotation.advance().delay), [0, 100, 200, 300]);
    rotation.answered();
    assert.deepEqual(rotation.advance(), { endpoint: "b", delay: 0 });
    assert.deepEqual(rotation.advance(), { endpoint: "a", delay: 100 });
  });

  it("jitter only shortens a delay, by up to 20 %", () => {
    const rotation = new EndpointRotation(["a", "b"], {}, () => 0.999);
    rotation.advance();
    assert.equal(rotation.advance().delay, 80);
  });

  it("refuses an empty list", () => {
    assert.throws(() => new EndpointRotation([]), RangeError);
  });
});
