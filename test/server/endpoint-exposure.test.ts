/** The start-up warning about endpoints reachable from other hosts without CURVE. */
import assert from "node:assert/strict";
import { exposureWarning, isLoopbackEndpoint } from "../../broker/src/cli/endpoint-exposure";

describe("cli: endpoint exposure", () => {
  it("knows loopback and local transports from the rest", () => {
    for (const local of ["tcp://127.0.0.1:4164", "tcp://127.1.2.3:*", "tcp://localhost:1", "tcp://[::1]:1", "tcp://lo:1", "ipc:///tmp/x", "inproc://x"]) {
      assert.equal(isLoopbackEndpoint(local), true, local);
    }
    for (const exposed of ["tcp://*:4161", "tcp://0.0.0.0:1", "tcp://eth0:1", "tcp://10.0.0.1:1", "tcp://[::]:1", "ws://127.0.0.1:1"]) {
      assert.equal(isLoopbackEndpoint(exposed), false, exposed);
    }
  });

  it("is silent when everything is loopback", () => {
    assert.equal(exposureWarning([{ name: "clients", endpoint: "tcp://127.0.0.1:1" }], "tcp://127.0.0.1:2"), undefined);
  });

  it("names the exposed endpoints, says traffic is unauthenticated, and that admin is loopback-only", () => {
    const warning = exposureWarning(
      [
        { name: "clients", endpoint: "tcp://*:4161" },
        { name: "workers", endpoint: "tcp://127.0.0.1:4162" },
      ],
      "tcp://127.0.0.1:4164",
    );
    assert.equal(
      warning,
      "warning: clients tcp://*:4161 accept connections from other hosts; traffic is unauthenticated and unencrypted " +
        "(CURVE is not enabled); the admin endpoint tcp://127.0.0.1:4164 is loopback-only",
    );
  });

  it("warns louder when the admin endpoint itself is exposed", () => {
    const warning = exposureWarning([{ name: "clients", endpoint: "ipc:///tmp/c" }], "tcp://*:4164") ?? "";
    assert.match(warning, /admin endpoint tcp:\/\/\*:4164 is NOT loopback-only/);
  });
});
