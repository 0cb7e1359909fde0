/**
 * `ztb worker`: the prototype's test worker (testworker.py) on the modern protocol by default, or on the prototype's
 * own REQ/PUSH protocol with --legacy. The answer is the request's payload frames unchanged (the prototype echoed);
 * which worker answered is in the enveloped REPLY's `worker` field and in this worker's output, not in the payload,
 * so clients can check that every answer matches its request.
 */
import { parseArgs } from "node:util";
import { Logger, LOG_FORMATS, LOG_LEVELS } from "../server/logger";
import { LEAVE_GRACE_MS, LegacyWorker, Worker, type WorkerStatus, type WorkerTask } from "../worker";
import type { PayloadLike } from "../peer/frames";
import { connectError, duration, endpoint, fraction, integer, looksLikeEndpoint, oneOf, parsing, UsageError } from "./peer-args";
import { PEER_CURVE_OPTIONS, PEER_CURVE_USAGE, peerCurve, type PeerCurveValues } from "./peer-curve";
import { preview } from "./show";
import { CAPACITY, HEARTBEAT, MAX_NAME } from "../protocol/limits";

export const WORKER_USAGE = `Usage: ztb worker [options] WORKERS [ANSWERS] [DROP]

Runs a test worker that answers every task with its payload unchanged (an echo, like the 2010 prototype's
testworker.py), printing each task as it arrives. DROP (0..1, default 0) is the fraction of tasks it silently
drops, never answering, so the broker's timeout and retry can be seen. When --delay outlasts half a task's
timeout, the worker EXTENDs the task's deadline while it works.

  WORKERS   the broker's workers endpoint, e.g. tcp://localhost:4162
  ANSWERS   the broker's answers endpoint, e.g. tcp://localhost:4163 (used by --legacy only; accepted otherwise)

Options:
  --legacy             speak the prototype's protocol: REQ to WORKERS, answers PUSHed to ANSWERS
  --capacity N         tasks run at once, ${CAPACITY.min}..${CAPACITY.max} (default 1; modern protocol only)
  --delay DURATION     simulated work per task, e.g. 50 or 50ms or 1s (default 0)
  --fail-rate F        fraction of tasks answered with a retryable FAIL instead of a result (modern only)
  --poison TEXT        never answer a task whose payload is exactly TEXT (repeatable): a task that hangs every
                       worker it reaches, which the broker fails once its attempts run out
  --name NAME          worker name shown by the broker (default w-<pid>)
  --service NAME       service to serve (repeatable; default "default"; modern only)
  --heartbeat DURATION heartbeat interval announced to the broker, ${HEARTBEAT.min}ms..${HEARTBEAT.max / 1000}s (default 1000)
  --grace DURATION     on SIGTERM or SIGINT: stop taking tasks, finish held ones for up to this long, give the
                       rest back without using up their attempts, then leave (default 10s; a second signal
                       exits at once; modern only)
  --quiet              do not print each task
  --log-level LEVEL    debug, info, warn or error (default warn); logs go to stderr
  --log-format FORMAT  text or json (default text)
${PEER_CURVE_USAGE}  -h, --help           show this help

Example (the prototype's walk-through, a worker dropping 10 % of its tasks):
  ztb worker tcp://localhost:4162 tcp://localhost:4163 0.1
`;

const OPTIONS = {
  legacy: { type: "boolean" },
  capacity: { type: "string" },
  delay: { type: "string" },
  "fail-rate": { type: "string" },
  poison: { type: "string", multiple: true },
  name: { type: "string" },
  service: { type: "string", multiple: true },
  heartbeat: { type: "string" },
  grace: { type: "string" },
  quiet: { type: "boolean" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  ...PEER_CURVE_OPTIONS,
  help: { type: "boolean", short: "h" },
} as const;

export interface WorkerCommandOptions {
  workers: string;
  answers: string | null;
  drop: number;
  legacy: boolean;
  capacity: number;
  delay: number;
  failRate: number;
  /** Payloads (one frame, UTF-8) this worker always drops. */
  poison: Buffer[];
  name: string;
  services: string[];
  heartbeat: number;
  /** SIGTERM/SIGINT: how long held tasks may finish before they are given back (ms). */
  grace: number;
  quiet: boolean;
  logger: Logger;
  curve: PeerCurveValues;
}

/** Returns null for --help. */
export function parseWorkerArgs(argv: string[]): WorkerCommandOptions | null {
  const { values, positionals } = parsing(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help === true) return null;
  if (positionals.length < 1 || positionals.length > 3) {
    throw new UsageError(`expected WORKERS [ANSWERS] [DROP], got ${positionals.length} arguments`);
  }
  const [workers, second, third] = positionals as [string, string | undefined, string | undefined];
  // Two positionals: `WORKERS DROP` or `WORKERS ANSWERS`, told apart by the shape of the second.
  const answers = second !== undefined && looksLikeEndpoint(second) ? second : null;
  const dropText = answers === null ? second : third;
  if (answers === null && third !== undefined) throw new UsageError(`ANSWERS endpoint "${second}" is not an endpoint`);
  const legacy = values.legacy === true;
  if (legacy && answers === null) throw new UsageError("--legacy needs the ANSWERS endpoint");
  if (legacy && values.capacity !== undefined && values.capacity !== "1") {
    throw new UsageError("--capacity needs the modern protocol (a legacy worker holds one task)");
  }
  if (legacy && values["fail-rate"] !== undefined) throw new UsageError("--fail-rate needs the modern protocol (legacy has no FAIL)");
  if (legacy && values.service !== undefined) throw new UsageError("--service needs the modern protocol");
  const name = values.name ?? `w-${process.pid}`;
  if (name.length < 1 || name.length > MAX_NAME) throw new UsageError(`--name must be 1 to ${MAX_NAME} characters`);
  const services = values.service ?? ["default"];
  for (const service of services) {
    if (service.length < 1 || service.length > MAX_NAME) throw new UsageError(`--service must be 1 to ${MAX_NAME} characters`);
  }
  return {
    workers: endpoint("WORKERS", workers),
    answers: answers === null ? null : endpoint("ANSWERS", answers),
    drop: fraction("DROP", dropText, 0),
    legacy,
    capacity: integer("--capacity", values.capacity, 1, CAPACITY.min, CAPACITY.max),
    delay: duration("--delay", values.delay, 0, 0, 3_600_000),
    failRate: fraction("--fail-rate", values["fail-rate"], 0),
    poison: (values.poison ?? []).map((text) => Buffer.from(text, "utf8")),
    name,
    services: [...new Set(services)],
    heartbeat: duration("--heartbeat", values.heartbeat, 1000, HEARTBEAT.min, HEARTBEAT.max),
    grace: duration("--grace", values.grace, LEAVE_GRACE_MS, 0, 3_600_000),
    quiet: values.quiet === true,
    logger: new Logger(
      oneOf("--log-level", values["log-level"], "warn", LOG_LEVELS),
      oneOf("--log-format", values["log-format"], "text", LOG_FORMATS),
    ),
    curve: { "curve-key": values["curve-key"], "server-key": values["server-key"] },
  };
}

export async function runWorkerCommand(argv: string[]): Promise<number> {
  const options = parseWorkerArgs(argv);
  if (options === null) {
    process.stdout.write(WORKER_USAGE);
    return 0;
  }
  const say = (line: string): void => {
    process.stdout.write(`[worker ${options.name}] ${line}\n`);
  };
  const simulate = new Simulation(options, say);
  const curve = await peerCurve(options.curve);

  const worker = options.legacy
    ? new LegacyWorker({
        workers: options.workers,
        answers: options.answers ?? "",
        logger: options.logger,
        curve,
        handler: (task) => simulate.legacy(task.id, task.payload, task.signal),
      })
    : new Worker({
        endpoint: options.workers,
        name: options.name,
        services: options.services,
        capacity: options.capacity,
        heartbeat: options.heartbeat,
        logger: options.logger,
        curve,
        handler: (task) => simulate.modern(task),
      });
  worker.on("status", (status) => {
    const line = describeStatus(status, options.quiet);
    if (line !== undefined) say(line);
  });
  try {
    worker.start();
  } catch (err) {
    throw connectError(options.legacy ? `${options.workers}" or "${options.answers ?? ""}` : options.workers, err);
  }
  const mode = options.legacy ? "legacy REQ/PUSH" : `modern, capacity ${options.capacity}`;
  say(`connecting to ${options.workers} (${mode}, drop ${percent(options.drop)}${options.failRate > 0 ? `, fail ${percent(options.failRate)}` : ""})`);

  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) process.exit(130);
    if (worker instanceof Worker) {
      say(`leaving: finishing ${worker.held} held task(s) for up to ${options.grace} ms, then giving the rest back`);
      void worker.leave(options.grace);
    } else void worker.close();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await worker.stopped;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}

/** The test worker's behaviour: print, maybe drop, simulate work, maybe fail, echo. */
class Simulation {
  constructor(
    private readonly options: WorkerCommandOptions,
    private readonly say: (line: string) => void,
  ) {}

  async modern(task: WorkerTask): Promise<PayloadLike> {
    const { id, attempt, attempts, payload, signal, timeout } = task;
    const label = `task ${id} attempt ${attempt}${attempts === null ? "" : `/${attempts}`}`;
    this.print(`${label}: ${preview(payload)}`);
    const drop = this.drops(payload);
    if (drop !== undefined) {
      this.say(`dropping ${label}${drop}`);
      // Never answer: hold the slot until the broker gives up on this attempt and sends CANCEL.
      await abortion(signal);
    }
    // §Worker protocol rule 4: work that outlasts half the deadline keeps the attempt alive with EXTEND.
    if (timeout !== null && this.options.delay >= timeout / 2) task.keepAlive();
    await sleep(this.options.delay, signal);
    if (Math.random() < this.options.failRate) {
      this.say(`failing ${label}`);
      throw new Error("simulated failure (--fail-rate)");
    }
    return payload;
  }

  async legacy(id: string, payload: Uint8Array[], signal: AbortSignal): Promise<PayloadLike | null> {
    this.print(`task ${id}: ${preview(payload)}`);
    const drop = this.drops(payload);
    if (drop !== undefined) {
      this.say(`dropping task ${id}${drop}`);
      return null;
    }
    await sleep(this.options.delay, signal);
    return payload;
  }

  /** Whether to drop this task, and the note to print with it: "" for a random drop (DROP), or why. */
  private drops(payload: Uint8Array[]): string | undefined {
    const [only] = payload;
    if (payload.length === 1 && only !== undefined && this.options.poison.some((p) => p.equals(only))) return " (poison: every worker drops it)";
    return Math.random() < this.options.drop ? "" : undefined;
  }

  private print(line: string): void {
    if (!this.options.quiet) this.say(line);
  }
}

function describeStatus(status: WorkerStatus, quiet: boolean): string | undefined {
  switch (status.type) {
    case "connected":
      return quiet ? undefined : `connected to ${status.endpoint}`;
    case "ready":
      return `ready${status.brokerHeartbeat === null ? "" : ` (broker heartbeat ${status.brokerHeartbeat} ms)`}`;
    case "task":
      return undefined; // printed by the handler, which knows whether it drops
    case "cancelled":
      return quiet ? undefined : `task ${status.id} cancelled by the broker (${status.reason})`;
    case "disconnected":
      return `disconnected (${status.reason}${status.message === undefined ? "" : `: ${status.message}`})`;
    case "reconnecting":
      return `reconnecting in ${status.delay} ms`;
    default: {
      const never: never = status;
      return never;
    }
  }
}

function percent(fractionValue: number): string {
  return `${Math.round(fractionValue * 1000) / 10} %`;
}

function abortion(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
