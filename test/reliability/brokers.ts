/** What the failover tests share: waiting for a condition, a broker's counters, a port nobody listens on. */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { snapshotCounters } from "../../broker/src/client/admin-counters";
import type { Counters } from "../../broker/src/protocol/messages";
import type { BrokerProcess } from "../chaos/broker-process";

export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting until ${what}`);
}

export async function counters(broker: BrokerProcess): Promise<Counters> {
  const found = await snapshotCounters(broker.endpoints.admin, 5000);
  assert.ok(found !== undefined, "the broker answers SNAPSHOT");
  return found;
}

/** A loopback endpoint nobody listens on (a port bound, then released). */
export async function deadEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(typeof address === "object" && address !== null);
  return `tcp://127.0.0.1:${address.port}`;
}
