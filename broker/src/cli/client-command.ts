/**
 * `ztb client CLIENTS`: the prototype's test client (testclient) — N concurrent clients each sending numbered
 * requests one after another and printing every answer — plus a summary. `ztb client send` lives in client-send.ts.
 *
 * Exit code: 0 when every request got exactly one reply (failure replies included: a failure after the last attempt
 * is the broker doing its job), 1 when a request got no reply before the client-side deadline or a reply came twice.
 */
import { parseArgs } from "node:util";
import { Client, ClientTimeoutError, PlainClient, type Reply } from "../client";
import { Logger, LOG_FORMATS, LOG_LEVELS } from "../server/logger";
import { runClientSend } from "./client-send";
import { LoadStats, type Outcome } from "./load-stats";
import { connectError, duration, endpointList, integer, oneOf, parsing, SubcommandUsageError, UsageError } from "./peer-args";
import { Progress } from "./progress";
import type { PeerKeys } from "../security";
import { PEER_CURVE_OPTIONS, PEER_CURVE_USAGE, peerCurve, type PeerCurveValues } from "./peer-curve";
import { preview } from "./show";
import { MAX_NAME } from "../protocol/limits";

export const CLIENT_USAGE = `Usage: ztb client [options] CLIENTS
       ztb client send [options] CLIENTS [PAYLOAD...]      (see ztb client send --help)

Runs test clients like the 2010 prototype's testclient: each of N clients sends numbered requests
("request 1", "request 2", ...) one after another to the broker's CLIENTS endpoint and prints each answer.
An empty answer means the broker gave up after its last attempt. Ends with a summary line.

CLIENTS may list several brokers separated by commas (enveloped only), e.g. tcp://a:4161,tcp://b:4161:
each client talks to one at a time and, when that one is gone (connection lost or refused, or silent
to ZMTP heartbeats for 3 s), moves to the next and sends its pending request again with the same
idempotency key (a generated one unless --key-prefix is given). Each move is logged (warn).

Options:
  -n, --clients N      concurrent clients (default 1)
  --count N            requests per client (default 100)
  --enveloped          use the enveloped protocol (shows failure reasons, attempts and the worker)
                       instead of the prototype's plain requests
  --service NAME       service to request (enveloped only; default "default")
  --timeout DURATION   per-attempt timeout to ask for, e.g. 2s (enveloped only; the broker's -T caps it)
  --attempts N         attempts to ask for (enveloped only; the broker's -t caps it)
  --deadline DURATION  give up on a request with no reply after this long (default 30s)
  --routing-id-prefix PREFIX
                       enveloped only: client i's socket gets the ZeroMQ routing id PREFIX<i> (1, 2, ...), so a
                       durable broker (--data) that restarts delivers its pending replies once it reconnects
  --key-prefix PREFIX  enveloped only: request N carries the idempotency key PREFIX<N>
  --resend N           with --key-prefix: after a deadline, send the request again (same key, same socket) up
                       to N times; the broker attaches it to the task it holds for the key, so it runs once
  --quiet              print only the summary
  --summary-json       print the summary as one JSON line on stdout instead of text
  --log-level LEVEL    debug, info, warn or error (default warn); logs go to stderr
  --log-format FORMAT  text or json (default text)
${PEER_CURVE_USAGE}  -h, --help           show this help

Durations are milliseconds, or take a unit: 500ms, 2s, 1m.
Exit status: 0 when every request got exactly one reply (failure replies count as replies), 1 otherwise, 2 on usage errors.

Example (the prototype's walk-through):
  ztb client tcp://localhost:4161
`;

const OPTIONS = {
  clients: { type: "string", short: "n" },
  count: { type: "string" },
  enveloped: { type: "boolean" },
  service: { type: "string" },
  timeout: { type: "string" },
  attempts: { type: "string" },
  deadline: { type: "string" },
  "routing-id-prefix": { type: "string" },
  "key-prefix": { type: "string" },
  resend: { type: "string" },
  quiet: { type: "boolean" },
  "summary-json": { type: "boolean" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  ...PEER_CURVE_OPTIONS,
  help: { type: "boolean", short: "h" },
} as const;

export interface ClientLoadOptions {
  /** One broker, or several to fail over between (enveloped only). */
  endpoints: string[];
  clients: number;
  count: number;
  enveloped: boolean;
  service: string | undefined;
  timeout: number | undefined;
  attempts: number | undefined;
  deadline: number;
  /** Enveloped: the routing id of client i (0-based) is `${routingIdPrefix}${i + 1}`. */
  routingIdPrefix: string | undefined;
  /** Enveloped: request N carries the key `${keyPrefix}${N}`. */
  keyPrefix: string | undefined;
  /** Sends again with the same key after a deadline, up to this many times (needs keyPrefix). */
  resend: number;
  quiet: boolean;
  summaryJson: boolean;
  logger: Logger;
  curve: PeerCurveValues;
}

export function parseClientArgs(argv: string[]): ClientLoadOptions | null {
  const { values, positionals } = parsing(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help === true) return null;
  if (positionals.length !== 1) throw new UsageError(`expected one CLIENTS endpoint, got ${positionals.length} arguments`);
  const enveloped = values.enveloped === true;
  const endpoints = endpointList("CLIENTS", positionals[0] ?? "");
  if (endpoints.length > 1 && !enveloped) {
    throw new UsageError("several CLIENTS endpoints need --enveloped (a plain request has no key: resent to another broker it could run twice)");
  }
  for (const option of ["service", "timeout", "attempts", "routing-id-prefix", "key-prefix"] as const) {
    if (!enveloped && values[option] !== undefined) throw new UsageError(`--${option} needs --enveloped`);
  }
  const routingIdPrefix = values["routing-id-prefix"];
  // libzmq refuses ids over 255 octets and reserves those starting with a zero octet; the suffix takes up to 5 digits.
  if (routingIdPrefix !== undefined && (routingIdPrefix.length < 1 || Buffer.byteLength(routingIdPrefix) > 250 || routingIdPrefix.startsWith("\0"))) {
    throw new UsageError("--routing-id-prefix must be 1 to 250 octets and not start with a zero octet");
  }
  const keyPrefix = values["key-prefix"];
  if (keyPrefix !== undefined && (keyPrefix.length < 1 || keyPrefix.length > 100)) throw new UsageError("--key-prefix must be 1 to 100 characters");
  if (values.resend !== undefined && keyPrefix === undefined) throw new UsageError("--resend needs --key-prefix (a resend without a key could run the work twice)");
  const service = values.service;
  if (service !== undefined && (service.length < 1 || service.length > MAX_NAME)) throw new UsageError(`--service must be 1 to ${MAX_NAME} characters`);
  return {
    endpoints,
    clients: integer("--clients", values.clients, 1, 1, 10_000),
    count: integer("--count", values.count, 100, 1, 10_000_000),
    enveloped,
    service,
    timeout: values.timeout === undefined ? undefined : duration("--timeout", values.timeout, 0, 1, 2 ** 31 - 1),
    attempts: values.attempts === undefined ? undefined : integer("--attempts", values.attempts, 1, 1, 1_000_000),
    deadline: duration("--deadline", values.deadline, 30_000, 1, 2 ** 31 - 1),
    routingIdPrefix,
    keyPrefix,
    resend: integer("--resend", values.resend, 0, 0, 1000),
    quiet: values.quiet === true,
    summaryJson: values["summary-json"] === true,
    logger: new Logger(
      oneOf("--log-level", values["log-level"], "warn", LOG_LEVELS),
      oneOf("--log-format", values["log-format"], "text", LOG_FORMATS),
    ),
    curve: { "curve-key": values["curve-key"], "server-key": values["server-key"] },
  };
}

export async function runClientCommand(argv: string[]): Promise<number> {
  if (argv[0] === "send") {
    try {
      return await runClientSend(argv.slice(1));
    } catch (err) {
      throw err instanceof UsageError ? new SubcommandUsageError("client send", err.message) : err;
    }
  }
  const options = parseClientArgs(argv);
  if (options === null) {
    process.stdout.write(CLIENT_USAGE);
    return 0;
  }
  const curve = await peerCurve(options.curve);
  const stats = new LoadStats(options.clients * options.count);
  const progress = new Progress(process.stderr, stats);
  const print = (line: string): void => {
    if (options.quiet) return;
    progress.clear();
    process.stdout.write(line + "\n");
  };

  const senders: Sender[] = [];
  try {
    for (let i = 0; i < options.clients; i++) senders.push(createSender(options, curve, i));
  } catch (err) {
    for (const sender of senders) sender.close();
    throw connectError(options.endpoints[0] ?? "", err);
  }

  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    for (const sender of senders) sender.close();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  progress.start();
  try {
    // Numbering runs across clients (client 0 sends 1..count, client 1 count+1..2*count) so each payload is unique.
    await Promise.all(
      senders.map(async (sender, index) => {
        for (let i = 1; i <= options.count && !interrupted; i++) {
          const number = index * options.count + i;
          const request = `request ${number}`;
          const outcome = await sender.send(request, number, (tries) => print(`${request} -> no reply within ${options.deadline} ms; sending it again with its key (try ${tries})`));
          stats.record(outcome);
          print(`${request} -> ${describe(outcome)}`);
          progress.update();
        }
      }),
    );
    // Give a duplicate reply a moment to show up before the tally is final.
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    progress.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    for (const sender of senders) {
      stats.addDuplicates(sender.duplicates());
      sender.close();
    }
  }
  process.stdout.write((options.summaryJson ? JSON.stringify({ summary: stats.summary() }) : stats.text()) + "\n");
  return stats.exactlyOnce() && !interrupted ? 0 : 1;
}

interface Sender {
  /** `onResend` is told before each resend (the try number, from 2). */
  send(payload: string, number: number, onResend: (tries: number) => void): Promise<Outcome>;
  duplicates(): number;
  close(): void;
}

function createSender(options: ClientLoadOptions, curve: PeerKeys | undefined, index: number): Sender {
  if (options.enveloped) {
    const routingId = options.routingIdPrefix === undefined ? {} : { routingId: `${options.routingIdPrefix}${index + 1}` };
    const client = new Client({ endpoint: options.endpoints, deadline: options.deadline, logger: options.logger, curve, ...routingId });
    return {
      send: async (payload, number, onResend) => {
        const key = options.keyPrefix === undefined ? {} : { key: `${options.keyPrefix}${number}` };
        for (let tries = 1; ; tries++) {
          try {
            // Each try gets a new correlation id from the client: a late reply to an earlier try is told apart (and dropped).
            return fromReply(payload, await client.request(payload, { ...requestOptions(options), ...key }));
          } catch (err) {
            if (!(err instanceof ClientTimeoutError) || tries > options.resend) return fromError(err);
            onResend(tries + 1);
          }
        }
      },
      duplicates: () => client.stats.duplicates,
      close: () => client.close(),
    };
  }
  const client = new PlainClient({ endpoint: options.endpoints[0] ?? "", deadline: options.deadline, logger: options.logger, curve });
  return {
    send: async (payload) => {
      try {
        const reply = await client.request(payload);
        if (!reply.ok) return { kind: "failed", reason: "failed", payload: reply.payload };
        return { kind: "succeeded", payload: reply.payload, mismatch: !isEcho(reply.payload, payload) };
      } catch (err) {
        return fromError(err);
      }
    },
    duplicates: () => client.stats.duplicates,
    close: () => client.close(),
  };
}

function requestOptions(options: ClientLoadOptions): { service?: string; timeout?: number; attempts?: number } {
  const result: { service?: string; timeout?: number; attempts?: number } = {};
  if (options.service !== undefined) result.service = options.service;
  if (options.timeout !== undefined) result.timeout = options.timeout;
  if (options.attempts !== undefined) result.attempts = options.attempts;
  return result;
}

function fromReply(request: string, reply: Reply): Outcome {
  if (reply.status === "failed") {
    return { kind: "failed", reason: reply.reason ?? "failed", message: reply.message, attempts: reply.attempts, worker: reply.worker, payload: reply.payload };
  }
  return {
    kind: "succeeded",
    payload: reply.payload,
    attempts: reply.attempts,
    worker: reply.worker,
    elapsed: reply.elapsed,
    mismatch: !isEcho(reply.payload, request),
  };
}

/** The test worker echoes: the answer to "request 17" is exactly that one frame. */
function isEcho(payload: Uint8Array[], request: string): boolean {
  return payload.length === 1 && payload[0] !== undefined && Buffer.from(payload[0]).toString("utf8") === request;
}

function fromError(err: unknown): Outcome {
  if (err instanceof ClientTimeoutError) return { kind: "lost", reason: `no reply within ${err.deadline} ms` };
  return { kind: "lost", reason: err instanceof Error ? err.message : String(err) };
}

function describe(outcome: Outcome): string {
  switch (outcome.kind) {
    case "succeeded": {
      const details = [
        outcome.worker === undefined ? undefined : `worker ${outcome.worker}`,
        outcome.attempts === undefined ? undefined : `attempt${outcome.attempts === 1 ? "" : "s"} ${outcome.attempts}`,
        outcome.elapsed === undefined ? undefined : `${outcome.elapsed} ms`,
        outcome.mismatch ? "NOT the request's echo" : undefined,
      ].filter((part) => part !== undefined);
      return `${preview(outcome.payload)}${details.length > 0 ? ` (${details.join(", ")})` : ""}`;
    }
    case "failed":
      if (outcome.attempts === undefined) return "failed (empty answer)";
      return `failed: ${outcome.reason} after ${outcome.attempts} attempt${outcome.attempts === 1 ? "" : "s"}${outcome.message === undefined ? "" : ` (${outcome.message})`}`;
    case "lost":
      return `LOST: ${outcome.reason}`;
    default: {
      const never: never = outcome;
      return never;
    }
  }
}
