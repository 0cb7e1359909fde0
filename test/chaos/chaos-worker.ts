/**
 * A misbehaving worker, run as a child process so the chaos runner can SIGKILL it for real.
 * `node chaos-worker.js '<ChaosWorkerConfig as JSON>'`; prints "ready" on stdout once the broker has accepted it.
 *
 * Kinds: "modern" speaks ZTB/1 over a raw DEALER with the codec (it can answer twice and after CANCEL, which the Worker
 * library refuses to do), "library" is the Worker library with a misbehaving handler, "legacy" is the prototype's
 * REQ + PUSH pair. Anything unexpected from the broker (a DISCONNECT, an undecodable message) exits with status 1,
 * which the runner reports: in a chaos run the broker has no reason to disconnect a worker.
 */
import { Dealer, Push, Request } from "zeromq";
import { decodeToWorker, encodeAnswer, encodeWorker } from "../../broker/src/codec";
import type { Frame, WorkerMessage } from "../../broker/src/protocol/messages";
import { SendQueue } from "../../broker/src/peer/send-queue";
import { NonRetryableError, Worker } from "../../broker/src/worker";
import { chooseAction, type Misbehaviour, seededRandom } from "./behaviour";

export interface ChaosWorkerConfig {
  kind: "modern" | "library" | "legacy";
  workers: string;
  answers: string;
  name: string;
  capacity: number;
  seed: number;
  /** The broker's attempt timeout (-T) in ms: late answers go out 250 ms after it. */
  timeout: number;
  misbehaviour: Misbehaviour;
  /**
   * The broker itself is killed and restarted (`npm run chaos -- --broker-kill`): a modern worker told DISCONNECT
   * `unknown-worker` or `shutdown` re-registers on a new socket, as spec §Reconnecting says. Without it any DISCONNECT
   * is a finding (a live broker has no reason to send one in a chaos run).
   */
  brokerRestarts?: boolean;
}

const HEARTBEAT_MS = 500;
const TWICE_GAP_MS = 20;
const LATE_MARGIN_MS = 250;

function die(why: string): never {
  process.stderr.write(`chaos-worker: ${why}\n`);
  process.exit(1);
}

const tagOf = (payload: readonly Frame[]): string => Buffer.from(payload[0] ?? new Uint8Array(0)).toString("utf8");

async function runModern(config: ChaosWorkerConfig): Promise<void> {
  const random = seededRandom(config.seed);
  let announced = false;
  for (;;) {
    const reason = await modernSession(config, random, () => {
      if (!announced) process.stdout.write("ready\n");
      announced = true;
    });
    if (config.brokerRestarts !== true || (reason !== "unknown-worker" && reason !== "shutdown")) die(`DISCONNECT ${reason}`);
  }
}

/** One registration on one socket, until the broker says DISCONNECT; returns its reason. */
async function modernSession(config: ChaosWorkerConfig, random: () => number, onHeartbeat: () => void): Promise<string> {
  const socket = new Dealer({ linger: 0 });
  const queue = new SendQueue(socket);
  // Answers timed for a previous session are dropped with it (spec §Reconnecting: a new connection drops old tasks).
  let open = true;
  const send = (msg: WorkerMessage): void => {
    if (open) queue.post(encodeWorker(msg), (e) => die(`send failed: ${String(e)}`));
  };
  socket.connect(config.workers);
  send({ type: "ready", options: { name: config.name, capacity: config.capacity, heartbeat: HEARTBEAT_MS } });
  const heartbeat = setInterval(() => send({ type: "heartbeat", interval: HEARTBEAT_MS }), HEARTBEAT_MS);
  const end = (reason: string): string => {
    open = false;
    clearInterval(heartbeat);
    queue.close();
    socket.close();
    return reason;
  };
  for await (const frames of socket) {
    let msg;
    try {
      msg = decodeToWorker(frames);
    } catch (error) {
      die(`undecodable message from the broker: ${String(error)}`);
    }
    if (msg.type === "heartbeat") {
      onHeartbeat();
    } else if (msg.type === "task") {
      const { task, payload } = msg;
      const result = (): void => send({ type: "result", task, payload });
      switch (chooseAction(tagOf(payload), random, config.misbehaviour)) {
        case "poison":
          send({ type: "fail", task, message: "poison request", retryable: false });
          break;
        case "fail":
          send({ type: "fail", task, message: "chaos failure", retryable: true });
          break;
        case "drop":
          break;
        case "late":
          setTimeout(result, config.timeout + LATE_MARGIN_MS);
          break;
        case "twice":
          result();
          setTimeout(result, TWICE_GAP_MS);
          break;
        case "answer":
          result();
          break;
      }
    } else if (msg.type === "disconnect") {
      // No JSON frame means reason unknown, treated like shutdown (spec §DISCONNECT).
      return end(msg.detail?.reason ?? "shutdown");
    } else if (msg.type === "legacy-task") {
      die("LEGACY-TASK sent to a modern worker");
    }
    // CANCEL: nothing to stop (dropped and late tasks are timers or nothing); the broker freed the slot.
  }
  return end("socket closed");
}

function runLibrary(config: ChaosWorkerConfig): void {
  const random = seededRandom(config.seed);
  const worker = new Worker({
    endpoint: config.workers,
    name: config.name,
    capacity: config.capacity,
    heartbeat: HEARTBEAT_MS,
    handler: async (task) => {
      switch (chooseAction(tagOf(task.payload), random, config.misbehaviour)) {
        case "poison":
          throw new NonRetryableError("poison request");
        case "fail":
          throw new Error("chaos failure");
        case "drop":
          // Never answers; the broker's CANCEL aborts the signal and the library drops the outcome.
          return new Promise((_, reject) => task.signal.addEventListener("abort", () => reject(task.signal.reason)));
        case "late":
          await new Promise((resolve) => setTimeout(resolve, config.timeout + LATE_MARGIN_MS));
          return task.payload;
        default:
          return task.payload; // the library answers at most once: "twice" is an ordinary answer here
      }
    },
  });
  worker.on("status", (status) => {
    if (status.type === "ready") process.stdout.write("ready\n");
    // Across broker restarts the library re-registers by itself (willReconnect); otherwise a disconnect is a finding.
    if (status.type === "disconnected" && !(config.brokerRestarts === true && status.willReconnect)) {
      die(`disconnected: ${status.reason} ${status.message ?? ""}`);
    }
  });
  worker.start();
}

async function runLegacy(config: ChaosWorkerConfig): Promise<void> {
  const random = seededRandom(config.seed);
  const req = new Request({ linger: 0 });
  const push = new Push({ linger: 1000 });
  const answers = new SendQueue(push);
  req.connect(config.workers);
  push.connect(config.answers);
  const answer = (task: Frame, payload: Frame[]): void =>
    answers.post(encodeAnswer({ type: "legacy-answer", task, payload }), (e) => die(`answer failed: ${String(e)}`));
  process.stdout.write("ready\n");
  for (;;) {
    await req.send("requesting task");
    const [task, ...payload] = await req.receive();
    if (task === undefined || task.length === 0) die("LEGACY-TASK without a task id");
    switch (chooseAction(tagOf(payload), random, config.misbehaviour)) {
      case "poison":
      case "fail":
      case "drop":
        break; // the prototype's protocol has no FAIL: not answering is how a legacy worker fails
      case "late":
        setTimeout(() => answer(task, payload), config.timeout + LATE_MARGIN_MS);
        break;
      case "twice":
        answer(task, payload);
        setTimeout(() => answer(task, payload), TWICE_GAP_MS);
        break;
      case "answer":
        answer(task, payload);
        break;
    }
  }
}

function main(): void {
  const config = JSON.parse(process.argv[2] ?? "{}") as ChaosWorkerConfig;
  const run = config.kind === "legacy" ? runLegacy(config) : config.kind === "modern" ? runModern(config) : undefined;
  if (run === undefined) runLibrary(config);
  else run.catch((error: unknown) => die(String(error)));
}

if (require.main === module) main();
