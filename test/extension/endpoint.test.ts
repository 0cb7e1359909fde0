import assert from "node:assert/strict";
import { connectEndpointProblem } from "../../extension/src/model/endpoint";

describe("extension endpoint check (Attach to Running Broker…)", () => {
  it("accepts tcp with a host and a numeric port, and ipc with a path", () => {
    for (const ok of ["tcp://127.0.0.1:4164", " tcp://localhost:1 ", "tcp://[::1]:65535", "tcp://*:4164", "ipc:///tmp/ztb-admin"]) {
      assert.equal(connectEndpointProblem(ok), undefined, ok);
    }
  });

  it("rejects a port that is not one, naming it", () => {
    assert.match(connectEndpointProblem("tcp://127.0.0.1:nope") ?? "", /^"nope" is not a port/);
    assert.match(connectEndpointProblem("tcp://127.0.0.1:0") ?? "", /^"0" is not a port/);
    assert.match(connectEndpointProblem("tcp://127.0.0.1:70000") ?? "", /^"70000" is not a port/);
  });

  it("rejects a missing port or host, other transports and non-endpoints", () => {
    assert.match(connectEndpointProblem("tcp://127.0.0.1") ?? "", /needs a host and a port/);
    assert.match(connectEndpointProblem("tcp://:4164") ?? "", /needs a host and a port/);
    assert.match(connectEndpointProblem("ipc://") ?? "", /needs a path/);
    assert.match(connectEndpointProblem("inproc://admin") ?? "", /only inside the broker's own process/);
    assert.match(connectEndpointProblem("udp://127.0.0.1:4164") ?? "", /not a transport/);
    assert.match(connectEndpointProblem("127.0.0.1:4164") ?? "", /is not a ZeroMQ endpoint/);
  });
});
