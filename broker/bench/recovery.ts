/**
 * Recovery time of the durable broker (issue #10: ≤ 2 s for 100 000 queued tasks): a `ztb broker --data DIR` is
 * filled with `count` queued 16-byte plain requests and no worker, SIGKILLed, and started again on the same directory
 * and endpoints; the figures are from the spawn of the new process to its `listening` line, and to the first admin
 * SNAPSHOT that shows every task queued again. An in-memory broker's spawn-to-listening is measured beside it: the
 * part of the figure that is Node starting, not the journal being read.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zmq from "zeromq";
import { journalBytes } from "./journal-size";
import { startBroker, stop } from "./processes";
import { queuedCount } from "./queued-count";

const DELIMITER = Buffer.alloc(0);

export interface RecoveryFigures {
  count: number;
  /** ms from the spawn of the restarted broker to its listening line, and to a SNAPSHOT showing `count` queued. */
  listeningMs: number;
  queuedMs: number;
  /** ms from spawn to listening of an in-memory broker with nothing to read. */
  emptyStartMs: number;
  /** Journal file + WAL holding `count` queued tasks, per task. */
  bytesPerQueuedTask: number;
}

export async function measureRecovery(count: number, onProgress: (line: string) => void): Promise<RecoveryFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-bench-recovery-"));
  const args = ["--data", dir, "--fsync", "batch"];
  const admin = new zmq.Dealer({ linger: 0, receiveTimeout: 30_000 });
  const client = new zmq.Dealer({ sendHighWaterMark: 0, linger: 0 });
  try {
    const first = await startBroker(args);
    admin.connect(first.endpoints.admin);
    client.connect(first.endpoints.clients);
    const payload = Buffer.alloc(16, 0x64);
    for (let i = 0; i < count; i++) await client.send([DELIMITER, payload]);
    const deadline = Date.now() + 120_000;
    for (let queued = 0; queued < count; queued = await queuedCount(admin)) {
      if (Date.now() > deadline) throw new Error(`the durable broker did not queue ${count} requests within 120 s`);
      onProgress(`recovery: ${queued} of ${count} tasks queued in the durable broker`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The SNAPSHOT that said `count` was sent after the commit holding them: the journal has every task now.
    await stop(first.child);
    const bytesPerQueuedTask = journalBytes(dir) / count;

    const spawnedAt = performance.now();
    const second = await startBroker(args, first.endpoints);
    const listeningMs = performance.now() - spawnedAt;
    // A new socket: the old one would find the new broker only at its next reconnection attempt (up to 100 ms later).
    const monitor = new zmq.Dealer({ linger: 0, receiveTimeout: 30_000 });
    let queuedMs = 0;
    try {
      monitor.connect(second.endpoints.admin);
      while ((await queuedCount(monitor)) < count) await new Promise((resolve) => setTimeout(resolve, 5));
      queuedMs = performance.now() - spawnedAt;
    } finally {
      monitor.close();
      await stop(second.child);
    }

    const emptyAt = performance.now();
    const empty = await startBroker();
    const emptyStartMs = performance.now() - emptyAt;
    await stop(empty.child);
    return { count, listeningMs, queuedMs, emptyStartMs, bytesPerQueuedTask };
  } finally {
    admin.close();
    client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
