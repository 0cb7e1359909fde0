/**
 * Child process for the ceiling benchmark: a ROUTER that echoes every message, the cheapest possible peer.
 * Prints its bound endpoint on stdout, then serves until its parent disconnects the IPC channel.
 */
import * as zmq from "zeromq";

async function main(): Promise<void> {
  const router = new zmq.Router({ sendHighWaterMark: 0, receiveHighWaterMark: 0 });
  await router.bind("tcp://127.0.0.1:*");
  process.stdout.write(`${router.lastEndpoint ?? ""}\n`);
  process.on("disconnect", () => process.exit(0));
  for await (const msg of router) await router.send(msg);
}

void main();
