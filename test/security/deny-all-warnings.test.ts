import assert from "node:assert/strict";
import { curveKeyPair } from "zeromq";
import { BrokerSecurity, KeyPolicy } from "../../broker/src/security";

describe("security warnings at start-up", () => {
  it("warns about each allow-list that lets nobody in", () => {
    const security = new BrokerSecurity(curveKeyPair(), KeyPolicy.fromLists({ worker: [curveKeyPair().publicKey] }));
    assert.deepEqual(security.warnings(), [
      "--client-keys not given: the clients endpoint refuses every client",
      "--admin-keys not given: the admin endpoint refuses every monitor",
    ]);
    return security.close();
  });
});
