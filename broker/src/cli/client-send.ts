/**
 * `ztb client send CLIENTS PAYLOAD...`: one enveloped request. The reply's frames go to stdout (one line each: text,
 * or 0x-hex when not printable), its status to stderr. The request always carries a deadline (REQUEST `deadline`,
 * protocol/spec.md §Request deadlines), so a request nobody can serve ends with the broker's failed/expired reply,
 * which says so, rather than with silence.
 * Exit codes: 0 succeeded, 1 failure reply, 2 usage error, 3 no reply before the client-side deadline.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Client, ClientTimeoutError, type Reply, type RequestCallOptions } from "../client";
import { connectError, duration, endpointList, integer, parsing, UsageError } from "./peer-args";
import { PEER_CURVE_OPTIONS, PEER_CURVE_USAGE, peerCurve } from "./peer-curve";
import { showFrame } from "./show";
import { Logger } from "../server/logger";
import { MAX_CORRELATION_ID, MAX_KEY, MAX_NAME } from "../protocol/limits";

export const CLIENT_SEND_USAGE = `Usage: ztb client send [options] CLIENTS [PAYLOAD...]

Sends one enveloped request to the broker's CLIENTS endpoint and prints the reply: each reply frame on its own
line on stdout (UTF-8 text, or 0x followed by hex when not printable), the status on stderr.
Each PAYLOAD argument is one frame; with no PAYLOAD, or "-", the frame is read from stdin.
With --limits, sends no request: prints the broker's limits (-T, -t, --deadline, ...) as JSON.

CLIENTS may list several brokers separated by commas, e.g. tcp://a:4161,tcp://b:4161: the request goes
to the first; when that broker is gone (connection lost or refused, or silent to ZMTP heartbeats for
3 s) it is sent again to the next, with the same idempotency key (--key, or a generated one).

Options:
  --service NAME       service to request (default "default")
  --timeout DURATION   per-attempt timeout to ask for, e.g. 500ms or 2s (the broker's -T caps it)
  --attempts N         attempts to ask for (the broker's -t caps it)
  --id ID              correlation id (default generated)
  --key KEY            idempotency key (1..${MAX_KEY} characters): while the broker holds or keeps a task
                       with this key, the request gets that task's reply instead of running it again
  --deadline DURATION  the request's deadline, queue wait included: the broker answers "expired"
                       when it passes (saying when no worker serves the service), and this client
                       gives up 1 s later if the broker said nothing (default 30s, or longer when
                       timeout x attempts needs it; the broker's --deadline caps it)
  --resend N           after a deadline, close the socket, open a new one and send again, up to N
                       times, waiting 100 ms doubling to 5 s between tries; each try uses the same
                       key (one is generated when --key is not given), so the work runs once
                       (with several CLIENTS, each try starts again from the first)
  --routing-id ID      the socket's ZeroMQ routing id: a durable broker that restarts answers this
                       client once it reconnects (unique per client)
  --limits             print the broker's limits as JSON instead of sending a request
${PEER_CURVE_USAGE}  -h, --help           show this help

Exit status: 0 succeeded, 1 the broker replied with a failure, 2 usage error, 3 no reply before the deadline.

Example:
  ztb client send tcp://localhost:4161 "hello" "world"
`;

const OPTIONS = {
  service: { type: "string" },
  timeout: { type: "string" },
  attempts: { type: "string" },
  id: { type: "string" },
  key: { type: "string" },
  deadline: { type: "string" },
  resend: { type: "string" },
  "routing-id": { type: "string" },
  limits: { type: "boolean" },
  ...PEER_CURVE_OPTIONS,
  help: { type: "boolean", short: "h" },
} as const;

export const EXIT_FAILED_REPLY = 1;
export const EXIT_CLIENT_TIMEOUT = 3;

export async function runClientSend(argv: string[]): Promise<number> {
  const { values, positionals } = parsing(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help === true) {
    process.stdout.write(CLIENT_SEND_USAGE);
    return 0;
  }
  if (values.limits === true) {
    if (positionals.length !== 1) throw new UsageError("--limits takes CLIENTS and no PAYLOAD");
    return printLimits(endpointList("CLIENTS", positionals[0] ?? ""), await peerCurve(values));
  }
  if (positionals.length < 1) throw new UsageError("expected CLIENTS [PAYLOAD...]");
  const [target, ...args] = positionals as [string, ...string[]];
  const targets = endpointList("CLIENTS", target);
  const request: RequestCallOptions = {};
  if (values.service !== undefined) {
    if (values.service.length < 1 || values.service.length > MAX_NAME) throw new UsageError(`--service must be 1 to ${MAX_NAME} characters`);
    request.service = values.service;
  }
  if (values.timeout !== undefined) request.timeout = duration("--timeout", values.timeout, 0, 1, 2 ** 31 - 1);
  if (values.attempts !== undefined) request.attempts = integer("--attempts", values.attempts, 1, 1, 1_000_000);
  if (values.id !== undefined) {
    if (values.id.length < 1 || values.id.length > MAX_CORRELATION_ID) throw new UsageError(`--id must be 1 to ${MAX_CORRELATION_ID} characters`);
    request.id = values.id;
  }
  request.brokerDeadline =
    values.deadline === undefined ? defaultDeadline(request) : duration("--deadline", values.deadline, 0, 1, 2 ** 31 - 1);
  const resend = values.resend === undefined ? 0 : integer("--resend", values.resend, 0, 0, 1000);
  if (values.key !== undefined) {
    if (values.key.length < 1 || values.key.length > MAX_KEY) throw new UsageError(`--key must be 1 to ${MAX_KEY} characters`);
    request.key = values.key;
  } else if (resend > 0 || targets.length > 1) request.key = randomUUID();
  const routingId = values["routing-id"];
  if (routingId !== undefined && (routingId.length < 1 || Buffer.byteLength(routingId) > 255 || routingId.startsWith("\0"))) {
    throw new UsageError("--routing-id must be 1 to 255 octets and not start with a zero octet");
  }
  if (args.filter((arg) => arg === "-").length > 1) throw new UsageError('stdin ("-") can be only one frame');

  const stdin = args.length === 0 || args.includes("-") ? await readStdin() : undefined;
  const payload = args.length === 0 ? [stdin ?? Buffer.alloc(0)] : args.map((arg) => (arg === "-" ? (stdin ?? Buffer.alloc(0)) : Buffer.from(arg)));

  const curve = await peerCurve(values);
  let pause = RESEND_FIRST_PAUSE_MS;
  for (let attempt = 0; ; attempt++) {
    const client = connect(targets, curve, routingId);
    try {
      return report(await client.request(payload, request));
    } catch (err) {
      if (!(err instanceof ClientTimeoutError)) throw err;
      if (attempt < resend) {
        process.stderr.write(`no reply within ${err.deadline} ms; sending again on a new socket (key ${request.key ?? ""})\n`);
      } else {
        process.stderr.write(`ztb client send: no reply from ${target} within ${err.deadline} ms\n`);
        return EXIT_CLIENT_TIMEOUT;
      }
    } finally {
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, pause * (0.8 + 0.2 * Math.random())));
    pause = Math.min(pause * 2, RESEND_MAX_PAUSE_MS);
  }
}

/** 30 s, or timeout x attempts + 5 s when the request asks for both and that is longer. */
function defaultDeadline(request: RequestCallOptions): number {
  const base = 30_000;
  if (request.timeout === undefined || request.attempts === undefined) return base;
  return Math.min(2 ** 31 - 1 - 1000, Math.max(base, request.timeout * request.attempts + 5000));
}

async function printLimits(targets: string[], curve: Awaited<ReturnType<typeof peerCurve>>): Promise<number> {
  const target = targets.join(",");
  const client = connect(targets, curve, undefined);
  try {
    process.stdout.write(JSON.stringify(await client.limits({ deadline: 5000 })) + "\n");
    return 0;
  } catch (err) {
    if (err instanceof ClientTimeoutError) {
      process.stderr.write(`ztb client send: no reply from ${target} within ${err.deadline} ms\n`);
      return EXIT_CLIENT_TIMEOUT;
    }
    if (err instanceof Error && !(err instanceof UsageError)) {
      process.stderr.write(`ztb client send: ${err.message}\n`);
      return EXIT_FAILED_REPLY;
    }
    throw err;
  } finally {
    client.close();
  }
}

const RESEND_FIRST_PAUSE_MS = 100;
const RESEND_MAX_PAUSE_MS = 5000;

function connect(targets: string[], curve: Awaited<ReturnType<typeof peerCurve>>, routingId: string | undefined): Client {
  try {
    return new Client({ endpoint: targets, curve, logger: new Logger("warn", "text"), ...(routingId === undefined ? {} : { routingId }) });
  } catch (err) {
    throw connectError(targets[0] ?? "", err);
  }
}


/** Prints the reply (frames on stdout, status on stderr) and returns the exit code. */
function report(reply: Reply): number {
  for (const frame of reply.payload) process.stdout.write(showFrame(frame) + "\n");
  const where = [
    reply.task === undefined ? undefined : `task ${reply.task}`,
    reply.worker === undefined ? undefined : `worker ${reply.worker}`,
    `${reply.attempts} attempt${reply.attempts === 1 ? "" : "s"}`,
    `${reply.elapsed} ms`,
  ].filter((part) => part !== undefined);
  if (reply.duplicate === true) where.push("answered by the earlier task with this key");
  if (reply.status === "succeeded") {
    process.stderr.write(`succeeded (${where.join(", ")})\n`);
    return 0;
  }
  const detail = [reply.message, reply.error].filter((part) => part !== undefined).join("; ");
  process.stderr.write(`failed: ${reply.reason ?? "unknown"}${detail === "" ? "" : ` (${detail})`} (${where.join(", ")})\n`);
  return EXIT_FAILED_REPLY;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}
