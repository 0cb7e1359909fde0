import assert from "node:assert/strict";
import { Client, ClientClosedError, ClientTimeoutError, PlainClient } from "../../broker/src/client";
import { deadEndpoint } from "../reliability/brokers";

describe("client-side deadline with no broker listening", () => {
  it("Client rejects with ClientTimeoutError instead of hanging", async () => {
    const client = new Client({ endpoint: await deadEndpoint() });
    try {
      const error = await client.request("anyone?", { deadline: 40 }).then(
        () => assert.fail("resolved without a broker"),
        (err: unknown) => err,
      );
      assert.ok(error instanceof ClientTimeoutError);
      assert.equal(error.deadline, 40);
      assert.equal(client.inFlight, 0);
    } finally {
      client.close();
    }
  });

  it("PlainClient rejects with ClientTimeoutError (its default deadline comes from the options)", async () => {
    const client = new PlainClient({ endpoint: await deadEndpoint(), deadline: 40 });
    try {
      await assert.rejects(client.request("anyone?"), ClientTimeoutError);
    } finally {
      client.close();
    }
  });

  it("close() rejects pending requests with ClientClosedError", async () => {
    const client = new Client({ endpoint: await deadEndpoint() });
    const pending = client.request("anyone?", { deadline: 10_000 });
    client.close();
    await assert.rejects(pending, ClientClosedError);
  });
});
