/**
 * Child process for the benchmark's second baseline: the least a broker can do with ZTB/1's frames. It relays each
 * plain request to the next modern worker (round robin, no credit, no rules, no bookkeeping beyond a Map) as a TASK
 * with the same frames our broker sends, and each RESULT back to its client. The gap between this and the echo
 * ceiling is the cost of the protocol's frames on zeromq.js; the gap between our broker and this is our own overhead.
 * Prints "CLIENTS WORKERS" endpoints on stdout.
 */
import * as zmq from "zeromq";
import { decodeWorker, encodeToWorker } from "../src/codec";

async function main(): Promise<void> {
  const clients = new zmq.Router({ sendHighWaterMark: 0, receiveHighWaterMark: 0 });
  const workers = new zmq.Router({ sendHighWaterMark: 0, receiveHighWaterMark: 0 });
  await clients.bind("tcp://127.0.0.1:*");
  await workers.bind("tcp://127.0.0.1:*");
  process.stdout.write(`${clients.lastEndpoint ?? ""} ${workers.lastEndpoint ?? ""}\n`);
  process.on("disconnect", () => process.exit(0));

  const ready: Buffer[] = [];
  const pending = new Map<string, Buffer>();
  let next = 0;
  let counter = 0;
  const delimiter = Buffer.alloc(0);

  // Requests that arrive before the first READY wait here (dropping them would stall the pipelining client).
  const backlog: { client: Buffer; payload: Buffer[] }[] = [];
  const relay = async (client: Buffer, payload: Buffer[]): Promise<void> => {
    const worker = ready[next++ % ready.length];
    if (worker === undefined) {
      backlog.push({ client, payload });
      return;
    }
    const id = `relay-${(counter++).toString(36)}`;
    pending.set(id, client);
    const task = Buffer.from(id, "latin1");
    const header = { service: "default", attempt: 1, attempts: null, timeout: null };
    await workers.send([worker, ...encodeToWorker({ type: "task", task, header, payload })]);
  };

  void (async () => {
    for await (const [worker, ...frames] of workers) {
      const msg = decodeWorker(frames);
      if (msg.type === "ready" && worker !== undefined) {
        ready.push(worker);
        for (let waiting = backlog.shift(); waiting !== undefined; waiting = backlog.shift()) {
          await relay(waiting.client, waiting.payload);
        }
      }
      if (msg.type !== "result") continue;
      const id = Buffer.from(msg.task).toString("latin1");
      const client = pending.get(id);
      pending.delete(id);
      if (client !== undefined) await clients.send([client, delimiter, ...msg.payload]);
    }
  })();

  for await (const [client, , ...payload] of clients) {
    if (client !== undefined) await relay(client, payload);
  }
}

void main();
