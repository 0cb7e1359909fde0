/**
 * Parsing and validation of `ztb broker` arguments. Every problem is a `UsageError` whose message is the one line
 * the CLI prints (`ztb broker: <message> (see ztb broker --help)`, exit code 2).
 */
import { describeParseError } from "./parse-error";
import { CLUSTER_OPTIONS, type ClusterCommandOptions, parseClusterOptions } from "./cluster-options";
import { parseArgs } from "node:util";
import type { LogFormat } from "../server/logger";
import { LOG_FORMATS, LOG_LEVELS } from "../server/logger";
import type { LogLevel } from "../core/api";
import type { BrokerSecurityConfig } from "../security";
import { FSYNC_POLICIES, type FsyncPolicy } from "../protocol/messages";
import { KEEP_FAILED, KEEP_RESULTS_MS } from "../core/retention";
import {
  DEFAULT_MAX_FRAMES,
  DEFAULT_MAX_MESSAGE,
  HEARTBEAT,
  MAX_NAME,
  MAX_TIMEOUT,
  MIN_MAX_FRAMES,
} from "../protocol/limits";

export { DEFAULT_MAX_MESSAGE };

export const DEFAULT_ADMIN_ENDPOINT = "tcp://127.0.0.1:4164";
export const DEFAULT_HEARTBEAT_MS = 2500;
export const DEFAULT_HISTORY = 1000;
export const DEFAULT_GRACE_MS = 5000;

export class UsageError extends Error {
  override name = "UsageError";
}

export interface BrokerCommandOptions {
  help: boolean;
  clients: string;
  workers: string;
  answers: string;
  admin: string | null;
  tries: number | null;
  /** ms */
  timeout: number | null;
  /** --deadline, ms: the longest request deadline, and the one given to requests that ask for none; null = none. */
  deadline: number | null;
  heartbeat: number;
  maxQueue: number | null;
  maxMessage: number;
  maxFrames: number;
  /**
   * Octets held for one peer that does not read, beyond libzmq's own (§Limits); undefined = the default, or with
   * --max-memory its share of the budget (core/memory-budget.ts), as for maxUnsentTotal and historyBytes.
   */
  maxUnsent: number | undefined;
  /** --metrics HOST:PORT of the Prometheus endpoint; undefined = none. */
  metrics: { host: string; port: number } | undefined;
  /** --max-memory bytes; undefined = no budget. */
  maxMemory: number | undefined;
  /** Octets held for all peers together. */
  maxUnsentTotal: number | undefined;
  history: number;
  /** --history-bytes: octets of payload and reply frames each history keeps (§Limits). */
  historyBytes: number | undefined;
  services: string[];
  grace: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** --data: the durable journal's directory; null = in memory (protocol/spec.md §Durability). */
  data: string | null;
  fsync: FsyncPolicy;
  /** --max-journal octets; undefined = as large as the disk allows. */
  maxJournal: number | undefined;
  /** --keep-results, ms. */
  keepResults: number;
  keepFailed: number;
  /** --cluster and its options (protocol/spec.md §Cluster mode); null = a broker on its own. */
  cluster: ClusterCommandOptions | null;
  /** --curve-secret and the allow-lists (protocol/spec.md §Security); no --curve-secret = CURVE off. */
  security: Partial<BrokerSecurityConfig>;
}

const OPTIONS = {
  tries: { type: "string", short: "t" },
  timeout: { type: "string", short: "T" },
  deadline: { type: "string" },
  admin: { type: "string" },
  "no-admin": { type: "boolean" },
  heartbeat: { type: "string" },
  "max-queue": { type: "string" },
  "max-message": { type: "string" },
  "max-frames": { type: "string" },
  "max-unsent": { type: "string" },
  "max-memory": { type: "string" },
  metrics: { type: "string" },
  "max-unsent-total": { type: "string" },
  history: { type: "string" },
  "history-bytes": { type: "string" },
  data: { type: "string" },
  fsync: { type: "string" },
  "max-journal": { type: "string" },
  "keep-results": { type: "string" },
  "keep-failed": { type: "string" },
  service: { type: "string", multiple: true },
  grace: { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "curve-secret": { type: "string" },
  "client-keys": { type: "string" },
  "worker-keys": { type: "string" },
  "admin-keys": { type: "string" },
  help: { type: "boolean", short: "h" },
  ...CLUSTER_OPTIONS,
} as const;

export function parseBrokerArgs(argv: string[]): BrokerCommandOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(describeParseError(err));
  }
  const { values, positionals } = parsed;
  const defaults: BrokerCommandOptions = {
    help: values.help === true,
    clients: "",
    workers: "",
    answers: "",
    admin: DEFAULT_ADMIN_ENDPOINT,
    tries: null,
    timeout: null,
    deadline: null,
    heartbeat: DEFAULT_HEARTBEAT_MS,
    maxQueue: null,
    maxMessage: DEFAULT_MAX_MESSAGE,
    maxFrames: DEFAULT_MAX_FRAMES,
    maxUnsent: undefined,
    maxMemory: undefined,
    metrics: undefined,
    maxUnsentTotal: undefined,
    history: DEFAULT_HISTORY,
    historyBytes: undefined,
    services: [],
    grace: DEFAULT_GRACE_MS,
    logLevel: "warn",
    logFormat: "text",
    data: null,
    fsync: "always",
    maxJournal: undefined,
    keepResults: KEEP_RESULTS_MS,
    keepFailed: KEEP_FAILED,
    cluster: null,
    security: {},
  };
  if (defaults.help) return defaults;

  if (positionals.length !== 3) {
    throw new UsageError(`expected 3 endpoints CLIENTS WORKERS ANSWERS, got ${positionals.length}`);
  }
  const [clients, workers, answers] = positionals as [string, string, string];
  for (const [name, endpoint] of [["clients", clients], ["workers", workers], ["answers", answers]] as const) {
    checkEndpoint(name, endpoint);
  }
  if (values.admin !== undefined && values["no-admin"] === true) {
    throw new UsageError("--admin and --no-admin cannot be used together");
  }
  const admin = values["no-admin"] === true ? null : (values.admin ?? defaultAdmin(clients));
  if (admin !== null) checkEndpoint("admin", admin);

  const data = values.data ?? null;
  if (data !== null && data.trim() === "") throw new UsageError("--data needs a directory");
  if (data === null && values.fsync !== undefined) throw new UsageError("--fsync needs --data (without it nothing is written)");
  if (data === null && values["max-journal"] !== undefined) throw new UsageError("--max-journal needs --data");
  const cluster = parseClusterOptions(values, (message) => new UsageError(message), duration);
  if (cluster !== null && data !== null) {
    throw new UsageError("--data and --cluster cannot be used together: in a cluster the tasks are kept by JetStream (see --replicas)");
  }
  const services = values.service ?? [];
  for (const service of services) {
    if (service.length < 1 || service.length > MAX_NAME) throw new UsageError(`--service must be 1 to ${MAX_NAME} characters`);
  }
  return {
    help: false,
    clients,
    workers,
    answers,
    admin,
    tries: values.tries === undefined ? null : integer("-t", values.tries, 1, Number.MAX_SAFE_INTEGER),
    timeout: values.timeout === undefined ? null : seconds("-T", values.timeout),
    deadline: values.deadline === undefined ? null : positiveDuration("--deadline", values.deadline),
    heartbeat: values.heartbeat === undefined ? DEFAULT_HEARTBEAT_MS : integer("--heartbeat", values.heartbeat, HEARTBEAT.min, HEARTBEAT.max),
    maxQueue: values["max-queue"] === undefined ? null : integer("--max-queue", values["max-queue"], 1, 2 ** 31 - 1),
    maxMessage:
      values["max-message"] === undefined ? DEFAULT_MAX_MESSAGE : size("--max-message", values["max-message"], 1),
    maxFrames:
      values["max-frames"] === undefined ? DEFAULT_MAX_FRAMES : integer("--max-frames", values["max-frames"], MIN_MAX_FRAMES, 2 ** 31 - 1),
    metrics: values.metrics === undefined ? undefined : hostPort("--metrics", values.metrics),
    maxMemory: values["max-memory"] === undefined ? undefined : size("--max-memory", values["max-memory"], 64 * 1024 * 1024),
    maxUnsent: values["max-unsent"] === undefined ? undefined : size("--max-unsent", values["max-unsent"], 1),
    maxUnsentTotal: values["max-unsent-total"] === undefined ? undefined : size("--max-unsent-total", values["max-unsent-total"], 1),
    history: values.history === undefined ? DEFAULT_HISTORY : integer("--history", values.history, 0, 10_000_000),
    historyBytes: values["history-bytes"] === undefined ? undefined : size("--history-bytes", values["history-bytes"], 1024 * 1024),
    services: [...new Set(services)],
    grace: values.grace === undefined ? DEFAULT_GRACE_MS : integer("--grace", values.grace, 0, 3_600_000),
    logLevel: oneOf("--log-level", values["log-level"] ?? "warn", LOG_LEVELS),
    logFormat: oneOf("--log-format", values["log-format"] ?? "text", LOG_FORMATS),
    data,
    fsync: oneOf("--fsync", values.fsync ?? "always", FSYNC_POLICIES),
    maxJournal: values["max-journal"] === undefined ? undefined : size("--max-journal", values["max-journal"], 65536),
    keepResults: values["keep-results"] === undefined ? KEEP_RESULTS_MS : duration("--keep-results", values["keep-results"]),
    keepFailed: values["keep-failed"] === undefined ? KEEP_FAILED : integer("--keep-failed", values["keep-failed"], 0, 10_000_000),
    cluster,
    security: {
      curveSecret: values["curve-secret"],
      clientKeys: values["client-keys"],
      workerKeys: values["worker-keys"],
      adminKeys: values["admin-keys"],
    },
  };
}

function integer(option: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max >= Number.MAX_SAFE_INTEGER || max >= 2 ** 31 - 1 ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`${option} must be ${range}, not "${text}"`);
  }
  return value;
}

/** -T: positive seconds, fractional allowed (as in the prototype); returned in whole ms, at least 1. */
function seconds(option: string, text: string): number {
  const value = /^(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value <= 0 || value * 1000 > MAX_TIMEOUT) {
    throw new UsageError(`${option} must be a positive number of seconds, not "${text}"`);
  }
  return Math.max(1, Math.round(value * 1000));
}

/** HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464, or :9464 for every interface). */
function hostPort(option: string, text: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]*):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`${option} must be HOST:PORT like 127.0.0.1:9464, not "${text}"`);
  }
  const host = (match[1] ?? "").replace(/^\[|\]$/g, "");
  return { host: host === "" ? "0.0.0.0" : host, port };
}

const UNIT_OCTETS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A size in octets: 512M, 2G, 64K, 65536 (K, M, G are powers of 1024); at least `min`. */
function size(option: string, text: string, min: number): number {
  const match = /^(\d+)([kmg]?)i?b?$/i.exec(text);
  const value = match === null ? NaN : Number(match[1]) * (UNIT_OCTETS[(match[2] ?? "").toLowerCase()] ?? NaN);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${option} must be a size like 64K, 512M or 2G (or octets), at least ${showSize(min)}, not "${text}"`);
  }
  return value;
}

/** 67108864 -> "64M", 65536 -> "64K", 1 -> "1". */
function showSize(octets: number): string {
  for (const [unit, scale] of [["G", 1024 ** 3], ["M", 1024 ** 2], ["K", 1024]] as const) {
    if (octets >= scale && octets % scale === 0) return `${octets / scale}${unit}`;
  }
  return String(octets);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_DURATION_MS = 30 * 86_400_000;

/** A duration like 10m, 90s, 1.5h, 500ms or 0; a bare number is seconds (as -T). Returned in whole ms, at most 30 days. */
function duration(option: string, text: string): number {
  const match = /^(\d+\.?\d*|\.\d+)(ms|s|m|h|d)?$/.exec(text);
  const value = match === null ? NaN : Number(match[1]) * (UNIT_MS[match[2] ?? "s"] ?? NaN);
  if (!Number.isFinite(value) || value > MAX_DURATION_MS) {
    throw new UsageError(`${option} must be a duration like 10m, 90s or 0 (at most 30d), not "${text}"`);
  }
  return Math.round(value);
}

/** A duration above 0 (a deadline of 0 would fail every request). */
function positiveDuration(option: string, text: string): number {
  const value = duration(option, text);
  if (value < 1) throw new UsageError(`${option} must be a duration above 0 like 30s or 5m, not "${text}"`);
  return value;
}

function oneOf<T extends string>(option: string, text: string, allowed: readonly T[]): T {
  const found = allowed.find((candidate) => candidate === text);
  if (found === undefined) throw new UsageError(`${option} must be one of ${allowed.join(", ")}, not "${text}"`);
  return found;
}

/**
 * The admin endpoint when --admin is not given: on loopback, three ports above a TCP clients endpoint with a port
 * (the prototype's 4161 gives 4164), so a second broker started with other ports gets its own admin port instead of
 * failing on 4164; beside an ipc clients endpoint, its path + ".admin"; otherwise DEFAULT_ADMIN_ENDPOINT.
 */
export function defaultAdmin(clients: string): string {
  const tcp = /^tcp:\/\/[^/]*:(\d+)$/.exec(clients);
  const port = tcp === null ? NaN : Number(tcp[1]);
  if (Number.isInteger(port) && port > 0 && port + 3 <= 65535) return `tcp://127.0.0.1:${port + 3}`;
  if (clients.startsWith("ipc://")) return `${clients}.admin`;
  return DEFAULT_ADMIN_ENDPOINT;
}

/** Catches the obvious typos early; libzmq judges the rest when binding. */
function checkEndpoint(name: string, endpoint: string): void {
  if (!/^[a-z][a-z0-9+]*:\/\/./.test(endpoint)) {
    throw new UsageError(`${name} endpoint "${endpoint}" is not a ZeroMQ endpoint like tcp://*:4161`);
  }
}
