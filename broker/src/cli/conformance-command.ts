/**
 * `ztb conformance worker|client [options] -- COMMAND...`: runs COMMAND against the checker, which plays the broker
 * on free loopback ports, and prints one line per check (broker/src/conformance).
 */
import { parseArgs } from "node:util";
import { checkClient, checkLegacyWorker, checkModernWorker, exitCode, formatJson, formatText, killAll, type Report } from "../conformance";
import { duration, parsing, SubcommandUsageError, UsageError } from "./peer-args";
import { HEARTBEAT } from "../protocol/limits";

export const CONFORMANCE_USAGE = `Usage: ztb conformance worker [--legacy] [options] -- COMMAND [ARG...]
       ztb conformance client [options] -- COMMAND [ARG...]

Checks a worker or client implementation against the ZTB/1 spec (protocol/spec.md). The checker binds the
clients, workers and answers endpoints on free loopback ports, standing in for the broker, starts COMMAND, and
drives it with inputs taken from protocol/examples/scenarios. It prints one line per check (PASS, FAIL with the
offending frames in hex and the spec rule, SKIP when not observed, N/A when not applicable), then a summary.

COMMAND learns the endpoints both ways:
  - {clients}, {workers} and {answers} in its arguments are replaced by the endpoints;
  - the environment has ZTB_CLIENTS_ENDPOINT, ZTB_WORKERS_ENDPOINT and ZTB_ANSWERS_ENDPOINT.

worker  checks a modern worker: READY, heartbeats, task ids, capacity, FAIL, CANCEL, broker silence, broker
        restart, DISCONNECT in both directions (SIGTERM must make it send DISCONNECT), schema validity.
        With --legacy: a prototype REQ + PUSH worker (request for work, task ids, asking again).
client  runs COMMAND three times: it must send one request (plain or enveloped) and exit with status 0 after
        the success reply of the first run, non-zero after the failure reply of the second; the third run gets
        no reply, and the client must give up by itself (non-zero) within its REQUEST deadline + 5 s (60 s
        without one). A CANCEL must name its own request and never precede a resend with the same key; a
        request sent again must carry the first one's key, on a new connection. Give the command a short
        deadline (ztb client send --deadline 1s) to keep the run short.

Options:
  --legacy              (worker) run the legacy-protocol checks
  --heartbeat DURATION  the heartbeat interval the checker announces as the broker's (default 500ms)
  --json                print one JSON report instead of lines
  -h, --help            show this help

Exit status: 0 every check passed (or was skipped / not applicable), 1 a check failed, 2 usage error.

Examples:
  ztb conformance worker -- ztb worker {workers} --heartbeat 300
  ztb conformance worker --legacy -- ztb worker {workers} {answers} --legacy
  ztb conformance worker -- /usr/bin/python3 protocol/implementations/python/ztb_worker.py
  ztb conformance client -- ztb client send --deadline 1s {clients} hello
`;

const OPTIONS = {
  legacy: { type: "boolean" },
  heartbeat: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function runConformanceCommand(argv: string[]): Promise<number> {
  const split = argv.indexOf("--");
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  const { values, positionals } = parsing(() => parseArgs({ args: own, options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help === true) {
    process.stdout.write(CONFORMANCE_USAGE);
    return 0;
  }
  const [role, ...extra] = positionals;
  if (role !== "worker" && role !== "client") throw new UsageError(`expected "worker" or "client", got ${role === undefined ? "nothing" : `"${role}"`}`);
  const sub = `conformance ${role}`;
  if (extra.length > 0) throw new SubcommandUsageError("conformance", `unexpected "${extra[0] ?? ""}" (put the command under test after --)`);
  if (command.length === 0) throw new SubcommandUsageError("conformance", `${sub}: no command under test (ztb ${sub} -- COMMAND...)`);
  if (role === "client" && values.legacy === true) throw new SubcommandUsageError("conformance", "--legacy applies to workers only");
  const heartbeat = duration("--heartbeat", values.heartbeat, 500, HEARTBEAT.min, HEARTBEAT.max);

  // The command under test runs in its own process group: an interrupted checker must stop it itself.
  const interrupted = (): void => {
    killAll();
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  let report: Report;
  try {
    if (role === "client") report = await checkClient({ command });
    else if (values.legacy === true) report = await checkLegacyWorker({ command, heartbeat });
    else report = await checkModernWorker({ command, heartbeat });
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
  process.stdout.write(values.json === true ? formatJson(report) : formatText(report));
  return exitCode(report);
}
