/**
 * Child process for the broker benchmark: N fast echo workers on raw sockets, so the figures measure the broker and
 * not a worker library. Modern workers speak the worker protocol through the codec; legacy workers speak the 2010
 * prototype's REQ/PUSH protocol. Usage: worker-host MODE WORKERS ANSWERS COUNT CAPACITY. Prints "ready" once connected.
 */
import * as zmq from "zeromq";
import { decodeToWorker, encodeWorker } from "../src/codec";

const REQUEST_FOR_WORK = Buffer.from("requesting task");

async function modernWorker(endpoint: string, index: number, capacity: number): Promise<void> {
  const dealer = new zmq.Dealer({ sendHighWaterMark: 0, receiveHighWaterMark: 0 });
  dealer.connect(endpoint);
  await dealer.send(encodeWorker({ type: "ready", options: { name: `bench-${index}`, capacity, heartbeat: 60000 } }));
  for await (const frames of dealer) {
    const msg = decodeToWorker(frames);
    if (msg.type === "task") await dealer.send(encodeWorker({ type: "result", task: msg.task, payload: msg.payload }));
  }
}

async function legacyWorker(workers: string, answers: string): Promise<void> {
  const req = new zmq.Request();
  const push = new zmq.Push({ sendHighWaterMark: 0 });
  req.connect(workers);
  push.connect(answers);
  for (;;) {
    await req.send(REQUEST_FOR_WORK);
    const task = await req.receive();
    await push.send(task); // [task-id, payload...] echoed: the answer is the request
  }
}

function main(): void {
  const [mode, workers = "", answers = "", countText = "1", capacityText = "1"] = process.argv.slice(2);
  const count = Number(countText);
  const capacity = Number(capacityText);
  for (let i = 0; i < count; i++) {
    void (mode === "legacy" ? legacyWorker(workers, answers) : modernWorker(workers, i, capacity));
  }
  process.on("disconnect", () => process.exit(0));
  process.stdout.write("ready\n");
}

main();
