import assert from "node:assert/strict";
import { createServer } from "node:net";
import { Client, ClientClosedError, ClientTimeoutError, PlainClient } from "../../broker/src/client";

/** A loopback port nobody listens on (bound, then released). */
async function deadPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(typeof address === "object" && address !== null);
  return `tcp://127.0.0.1:${address.port}`;
}

describe("client-side deadline with no broker listening", () => {
  it("Client rejects with ClientTimeoutError instead of hanging", async () => {
    const client = new Client({ endpoint: await deadPort() });
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
    const client = new PlainClient({ endpoint: await deadPort(), deadline: 40 });
    try {
      await assert.rejects(client.request("anyone?"), ClientTimeoutError);
    } finally {
      client.close();
    }
  });

  it("close() rejects pending requests with ClientClosedError", async () => {
    const client = new Client({ endpoint: await deadPort() });
    const pending = client.request("anyone?", { deadline: 10_000 });
    client.close();
    await assert.rejects(pending, ClientClosedError);
  });
});
