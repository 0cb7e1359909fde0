/**
 * A worker of the cluster chaos run (run-cluster-chaos.ts), run as a child process so the runner can SIGKILL it.
 * `node cluster-worker.js WORKERS_ENDPOINT NAME CAPACITY`: the Worker library, re-registering by itself when its broker
 * is killed and restarted on the same endpoint. It echoes the payload after a short random pause (so tasks are in
 * hand when something dies) and writes one line per execution, `x <tag>`, on stdout, before it starts the work: the
 * runner counts how often each key ran from those lines. "ready" is the first line once the broker has accepted it.
 */
import { Worker } from "../../broker/src/worker";

const HEARTBEAT_MS = 500;
const MAX_PAUSE_MS = 20;

function main(): void {
  const [endpoint = "", name = "cluster-worker", capacity = "1"] = process.argv.slice(2);
  let announced = false;
  const worker = new Worker({
    endpoint,
    name,
    capacity: Number(capacity),
    heartbeat: HEARTBEAT_MS,
    reconnect: { initial: 50, max: 500 },
    handler: async (task) => {
      process.stdout.write(`x ${Buffer.from(task.payload[0] ?? []).toString("utf8")}\n`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * MAX_PAUSE_MS));
      return task.payload;
    },
  });
  worker.on("status", (status) => {
    if (status.type === "ready" && !announced) {
      announced = true;
      process.stdout.write("ready\n");
    }
  });
  worker.start();
}

main();
