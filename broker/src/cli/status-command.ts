/**
 * `ztb status [ADMIN]`: one admin SNAPSHOT, printed as tables like `docker ps` — the broker, its workers, its
 * services' queues — or as the SNAPSHOT's JSON with --json. For operators outside VS Code.
 * Exit codes: 0 printed, 2 usage error, 3 no answer before the timeout.
 */
import { parseArgs } from "node:util";
import { Dealer } from "zeromq";
import { DEFAULT_ADMIN_ENDPOINT } from "./broker-options";
import { decodeAdminReply, encodeAdmin } from "../codec";
import type { Snapshot } from "../protocol/messages";
import { duration, endpoint, parsing, UsageError } from "./peer-args";
import { PEER_CURVE_OPTIONS, PEER_CURVE_USAGE, peerCurve } from "./peer-curve";
import { applyClientSecurity } from "../security/curve-client";

export const STATUS_USAGE = `Usage: ztb status [options] [ADMIN]

Asks the broker at its admin endpoint ADMIN (default ${DEFAULT_ADMIN_ENDPOINT}) for a snapshot and prints its state,
its workers and its services' queues as tables.

Options:
  --json               print the SNAPSHOT as JSON (protocol/spec.md, Admin protocol) instead
  --timeout DURATION   give up when the broker has not answered after this long (default 3s)
${PEER_CURVE_USAGE}  -h, --help           show this help

Exit status: 0 printed, 2 usage error, 3 no answer in time.
`;

const OPTIONS = {
  json: { type: "boolean" },
  timeout: { type: "string" },
  ...PEER_CURVE_OPTIONS,
  help: { type: "boolean", short: "h" },
} as const;

export const EXIT_NO_ANSWER = 3;

export async function runStatusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parsing(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help === true) {
    process.stdout.write(STATUS_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError("expected at most one ADMIN endpoint");
  const admin = positionals[0] ?? DEFAULT_ADMIN_ENDPOINT;
  endpoint("ADMIN", admin);
  const timeout = values.timeout === undefined ? 3000 : duration("--timeout", values.timeout, 3000, 1, 600_000);
  const curve = await peerCurve(values);
  const snapshot = await fetchSnapshot(admin, timeout, curve);
  if (snapshot === undefined) {
    process.stderr.write(`ztb status: no answer from ${admin} within ${timeout} ms (is a broker running with that --admin?)\n`);
    return EXIT_NO_ANSWER;
  }
  process.stdout.write(values.json === true ? `${JSON.stringify(snapshot, null, 2)}\n` : formatStatus(snapshot));
  return 0;
}

async function fetchSnapshot(admin: string, ms: number, curve: Awaited<ReturnType<typeof peerCurve>>): Promise<Snapshot | undefined> {
  const socket = new Dealer({ linger: 0, receiveTimeout: ms, sendTimeout: ms });
  try {
    if (curve) applyClientSecurity(socket, curve);
    socket.connect(admin);
    await socket.send(encodeAdmin({ type: "snapshot", path: [new Uint8Array(0)], query: { tasks: { limit: 1 } } }));
    const reply = decodeAdminReply(await socket.receive());
    return reply.type === "snapshot" ? reply.snapshot : undefined;
  } catch {
    return undefined;
  } finally {
    socket.close();
  }
}

/** Columns padded to their widest cell; the header in capitals. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

function ago(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function formatStatus(s: Snapshot): string {
  const b = s.broker;
  const cluster = b.cluster;
  const durability =
    cluster !== undefined
      ? `cluster ${cluster.name} as ${cluster.broker} (NATS ${cluster.connected ? "connected" : "LOST: requests refused"})`
      : b.durable === true
        ? `durable (fsync ${b.fsync ?? "?"})`
        : "in memory";
  const limits = `tries ${b.tries ?? "unlimited"}, timeout ${b.timeout === null ? "unlimited" : ago(b.timeout)}`;
  const mib = (octets: number): number => Math.round(octets / 2 ** 20);
  const held = b.memory?.live === undefined ? "" : ` (holds ${mib(b.memory.live)})`;
  const memory = b.memory === undefined ? "" : `, memory ${mib(b.memory.rss)}${held} of ${mib(b.memory.budget)} MiB${b.memory.shedding ? ", SHEDDING LOAD: new requests refused" : ""}`;
  const c = s.counters;
  const lines = [
    `broker    ${b.state}, ${durability}, ztb ${b.version}, up ${ago(s.time - b.startedAt)}; ${limits}${memory}`,
    `endpoints clients ${b.endpoints.clients}, workers ${b.endpoints.workers}, answers ${b.endpoints.answers}, admin ${b.endpoints.admin ?? "off"}`,
    `tasks     ${c.queued} queued, ${c.running} running; since start ${c.succeeded} succeeded, ${c.failed} failed, ${c.cancelled} cancelled ` +
      `(${c.requests} requests, ${c.retried} retried, ${c.rejected} rejected${c.deduplicated === undefined ? "" : `, ${c.deduplicated} deduplicated`})`,
    "",
  ];
  const workers = s.workers.map((w) => [
    w.id,
    w.name,
    w.kind,
    w.quarantinedUntil === undefined ? w.state : `quarantined ${ago(Math.max(0, w.quarantinedUntil - s.time))}`,
    w.services.join(","),
    `${w.held}/${w.capacity}`,
    String(w.done),
    String(w.failed),
    `${ago(Math.max(0, s.time - w.lastSeen))} ago`,
  ]);
  const out = lines.join("\n") + "\n";
  const workerTable = workers.length === 0 ? "no workers\n" : table(["WORKER", "NAME", "KIND", "STATE", "SERVICES", "HELD", "DONE", "FAILED", "LAST SEEN"], workers);
  const depth = cluster?.services ?? {};
  const names = [...new Set([...(s.services ?? []).map((svc) => svc.name), ...Object.keys(depth)])];
  const local = new Map((s.services ?? []).map((svc) => [svc.name, svc]));
  // In a cluster the cluster-wide columns say what waits and runs in the shared queue; QUEUED is what waits here.
  const services = names.map((name) => {
    const row = [name, String(local.get(name)?.queued ?? 0), String(local.get(name)?.workers ?? 0)];
    return cluster === undefined ? row : [...row, String(depth[name]?.waiting ?? "?"), String(depth[name]?.running ?? "?")];
  });
  const headers = cluster === undefined ? ["SERVICE", "QUEUED", "WORKERS"] : ["SERVICE", "QUEUED", "WORKERS", "CLUSTER WAITING", "CLUSTER RUNNING"];
  const serviceTable = services.length === 0 ? "no services\n" : table(headers, services);
  return `${out}${workerTable}\n${serviceTable}`;
}
