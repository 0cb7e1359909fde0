/** The broker's count of queued tasks, by admin SNAPSHOT: how the memory and recovery measurements know a fill is done. */
import type * as zmq from "zeromq";
import { decodeAdminReply, encodeAdmin } from "../src/codec";

const DELIMITER = Buffer.alloc(0);

export async function queuedCount(admin: zmq.Dealer): Promise<number> {
  await admin.send(encodeAdmin({ type: "snapshot", path: [DELIMITER], query: { tasks: { limit: 1 } } }));
  const reply = decodeAdminReply(await admin.receive());
  return reply.type === "snapshot" ? reply.snapshot.counters.queued : -1;
}
