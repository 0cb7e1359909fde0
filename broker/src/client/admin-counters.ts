/**
 * One admin SNAPSHOT on a fresh socket, for tools that only need the broker's counters now and then (ztb demo
 * --crash, the chaos runs): undefined when the broker does not answer within `ms`, e.g. while it restarts.
 */
import { Dealer } from "zeromq";
import { decodeAdminReply, encodeAdmin } from "../codec";
import type { Counters } from "../protocol/messages";

export async function snapshotCounters(endpoint: string, ms: number): Promise<Counters | undefined> {
  const socket = new Dealer({ linger: 0, receiveTimeout: ms, sendTimeout: ms });
  try {
    socket.connect(endpoint);
    await socket.send(encodeAdmin({ type: "snapshot", path: [new Uint8Array(0)], query: { tasks: { limit: 1 } } }));
    const reply = decodeAdminReply(await socket.receive());
    return reply.type === "snapshot" ? reply.snapshot.counters : undefined;
  } catch {
    return undefined;
  } finally {
    socket.close();
  }
}
