/**
 * Resident memory of the real broker per queued small task: RSS of an idle `ztb broker` versus the same broker
 * holding `count` queued 16-byte plain requests (no workers), read from /proc once the admin snapshot says they are
 * all queued.
 */
import * as zmq from "zeromq";
import { rssOf, startBroker, stop } from "./processes";
import { queuedCount } from "./queued-count";

const DELIMITER = Buffer.alloc(0);

export async function measureBrokerMemory(count: number): Promise<{ idleRss: number; loadedRss: number; bytesPerTask: number }> {
  const { child, endpoints } = await startBroker(["--history", "1000"]);
  const admin = new zmq.Dealer();
  const client = new zmq.Dealer({ sendHighWaterMark: 0 });
  try {
    admin.connect(endpoints.admin);
    client.connect(endpoints.clients);
    await queuedCount(admin);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const idleRss = await rssOf(child.pid ?? 0);
    const payload = Buffer.alloc(16, 0x64);
    for (let i = 0; i < count; i++) await client.send([DELIMITER, payload]);
    const deadline = Date.now() + 60_000;
    while ((await queuedCount(admin)) < count) {
      if (Date.now() > deadline) throw new Error("broker did not queue every request within 60 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const loadedRss = await rssOf(child.pid ?? 0);
    return { idleRss, loadedRss, bytesPerTask: (loadedRss - idleRss) / count };
  } finally {
    admin.linger = 0;
    client.linger = 0;
    admin.close();
    client.close();
    await stop(child);
  }
}
