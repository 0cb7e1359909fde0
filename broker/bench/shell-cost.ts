/**
 * The broker's own JavaScript per task, without sockets: what BrokerServer runs between zeromq.js's receive and send
 * for one task — the plain request decoded as the clients loop does it, the core's step, the TASK encoded with its
 * routing id, the worker's RESULT decoded, the core's step, the reply encoded. Set beside the broker's CPU per task
 * over real sockets, it shows how much of that CPU is ours and how much is the binding, the event loop and the kernel.
 */
import type { Output } from "../src/core/api";
import { BrokerCore } from "../src/core/broker-core";
import { encodeClient, encodeClientReply, encodeToWorker, encodeWorker } from "../src/codec";
import type { Frame } from "../src/protocol/messages";
import { DEFAULT_BOUNDS } from "../src/protocol/limits";
import { routingId } from "../src/server/peer-keys";
import { clientInput, workerInput } from "../src/server/receive-loops";
import { benchCoreConfig } from "./core-config";

const WORKER_ID = Buffer.from([0, 0x80, 0, 0, 0x29]);
const CLIENT_ID = Buffer.from([0, 0x80, 0, 0, 0x2a]);

/** Encodes the core's outputs as the shell does; returns the task id of a TASK among them, if any. */
function perform(outputs: readonly Output[]): Frame | undefined {
  let task: Frame | undefined;
  for (const output of outputs) {
    if (output.kind === "to-client") encodeClientReply(output.msg).unshift(routingId(output.peer));
    else if (output.kind === "to-worker") {
      encodeToWorker(output.msg).unshift(routingId(output.peer));
      if (output.msg.type === "task") task = output.msg.task;
    }
  }
  return task;
}

/** Best of `rounds` rounds of `cycles` tasks, in ns per task. */
export function measureShellCost(cycles = 100_000, rounds = 5): number {
  let now = 1_000_000;
  const core = new BrokerCore(benchCoreConfig(null), now);
  const ready = workerInput([WORKER_ID, ...(encodeWorker({ type: "ready", options: { name: "bench", capacity: 16, heartbeat: 60_000 } }) as Buffer[])], DEFAULT_BOUNDS);
  if (ready !== undefined) core.handle(ready, now);
  const payload = Buffer.alloc(16, 0x62);
  // As a ROUTER delivers it, less the routing id: the prototype's plain request `"" payload`.
  const request = encodeClient({ type: "plain-request", path: [Buffer.alloc(0)], payload: [payload] }) as Buffer[];
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < cycles; i++) {
      now += 1;
      const input = clientInput([CLIENT_ID, ...request], DEFAULT_BOUNDS);
      const task = input === undefined ? undefined : perform(core.handle(input, now));
      if (task === undefined) throw new Error("the core did not dispatch the request");
      // The worker's side (encoding its RESULT) is inside the measurement too: a few hundred ns.
      const result = workerInput([WORKER_ID, ...(encodeWorker({ type: "result", task, payload: [payload] }) as Buffer[])], DEFAULT_BOUNDS);
      if (result !== undefined) perform(core.handle(result, now));
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / cycles);
  }
  return best;
}
