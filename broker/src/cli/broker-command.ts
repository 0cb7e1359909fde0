/**
 * `ztb broker`: parses the arguments, starts a `BrokerServer`, prints where it listens, and runs until SIGINT or
 * SIGTERM (graceful: see BrokerServer.shutdown; a second signal exits at once). With --curve-secret, SIGHUP re-reads
 * the key allow-lists (protocol/spec.md §Security).
 * Every user error is one line on stderr and exit code 2 — never a stack trace.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type BrokerSecurity, brokerSecurityFromOptions, SecurityOptionError } from "../security";
import { BindError, BudgetError } from "../server/bind-error";
import type { OctetBounds } from "../core/memory-budget";
import { BrokerServer, type EndpointSet } from "../server/broker-server";
import { Logger, type LogSink } from "../server/logger";
import { BROKER_USAGE } from "./broker-usage";
import { type BrokerCommandOptions, parseBrokerArgs, UsageError } from "./broker-options";
import { exposureWarning } from "./endpoint-exposure";
import { openJournal } from "./journal-option";
import { ClusterError } from "../cluster/errors";
import type { StartedCluster } from "./cluster-start";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** Exit code of a second signal (128 + SIGINT), as shells report an interrupted program. */
export const EXIT_INTERRUPTED = 130;

export interface CommandIo {
  stdout: LogSink;
  stderr: LogSink;
}

const PREFIX = "ztb broker: ";

export async function runBrokerCommand(
  argv: string[],
  io: CommandIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let options: BrokerCommandOptions;
  try {
    options = parseBrokerArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`${PREFIX}${err.message} (see ztb broker --help)\n`);
    return EXIT_USAGE;
  }
  if (options.help) {
    io.stdout.write(BROKER_USAGE);
    return EXIT_OK;
  }

  const logger = new Logger(options.logLevel, options.logFormat, io.stderr);
  let security: BrokerSecurity | undefined;
  try {
    security = await brokerSecurityFromOptions(options.security, {
      onRefusal: (r) => logger.warn("refused", { endpoint: r.domain, key: r.key, address: r.address, reason: r.reason, count: r.count }),
      onError: (err) => logger.error("zap-handler-failed", { message: String(err) }),
    });
  } catch (err) {
    if (!(err instanceof SecurityOptionError)) throw err;
    io.stderr.write(`${PREFIX}${err.message}\n`);
    return EXIT_USAGE;
  }
  const journal = options.data === null ? undefined : await openJournal(options.data, options.fsync, options.maxJournal);
  if (journal instanceof Error) {
    await security?.close();
    io.stderr.write(`${PREFIX}${journal.message}\n`);
    return EXIT_USAGE;
  }
  let cluster: StartedCluster | undefined;
  if (options.cluster !== null) {
    try {
      // Loaded only for --cluster: the NATS client is not needed (nor shipped in the extension's .vsix) otherwise.
      const { startCluster } = await import("./cluster-start.js");
      cluster = await startCluster(options.cluster, options.tries, options.keepResults);
    } catch (err) {
      await security?.close();
      if (!(err instanceof ClusterError)) throw err;
      io.stderr.write(`${PREFIX}${err.message}\n`);
      return EXIT_USAGE;
    }
  }
  await security?.start();
  const server = new BrokerServer();
  let bound: EndpointSet;
  try {
    bound = await server.start({
      endpoints: { clients: options.clients, workers: options.workers, answers: options.answers, admin: options.admin },
      tries: options.tries,
      timeout: options.timeout,
      heartbeat: options.heartbeat,
      maxQueue: options.maxQueue,
      history: options.history,
      historyBytes: options.historyBytes,
      keepFailed: options.keepFailed,
      ...(options.maxMemory === undefined ? {} : { maxMemory: options.maxMemory }),
      keepResults: options.keepResults,
      deadline: options.deadline,
      services: options.services,
      maxMessage: options.maxMessage,
      maxFrames: options.maxFrames,
      maxUnsent: options.maxUnsent,
      maxUnsentTotal: options.maxUnsentTotal,
      version: packageVersion(),
      logger,
      security,
      ...(journal === undefined ? {} : { journal: { store: journal, fsync: options.fsync, crashAfterCommits: crashFailpoint() } }),
      ...(cluster === undefined ? {} : { cluster: cluster.option }),
      onJournalFailure: (err) => {
        // Nothing after the last commit was sent to anyone: stop at once, the journal is the truth for the restart.
        io.stderr.write(`${PREFIX}${err instanceof Error ? err.message : String(err)}; stopped (nothing after the last commit was acknowledged)\n`);
        process.exit(EXIT_FAILURE);
      },
    });
  } catch (err) {
    journal?.close();
    await cluster?.conn.close();
    await security?.close();
    if (!(err instanceof BindError) && !(err instanceof BudgetError)) throw err;
    io.stderr.write(`${PREFIX}${err.message}\n`);
    return EXIT_USAGE;
  }

  let metrics: { close(): void } | undefined;
  let metricsAddress: string | undefined;
  if (options.metrics !== undefined) {
    const { brokerRegistry, serveMetrics } = await import("../server/metrics.js");
    try {
      const served = await serveMetrics(brokerRegistry(() => server.readCore()), options.metrics.host, options.metrics.port);
      metrics = served.server;
      metricsAddress = served.address;
    } catch (err) {
      await server.close();
      await cluster?.conn.close();
      await security?.close();
      io.stderr.write(`${PREFIX}cannot serve --metrics on ${options.metrics.host}:${options.metrics.port}: ${err instanceof Error ? err.message : String(err)}\n`);
      return EXIT_USAGE;
    }
  }
  // Signals are handled from before the broker says where it listens: a supervisor may stop it the moment it reads that.
  const signalled = runUntilSignalled(server, options.grace, logger);
  announce(logger, options, bound, server.octetBounds, security);
  if (metricsAddress !== undefined) {
    logger.announce("info", "metrics", `${PREFIX}metrics at http://${metricsAddress}/metrics`, { metrics: metricsAddress });
  }
  const reload = (): void => {
    void server.reloadKeys().then(
      (sizes) => logger.info("keys-reloaded", sizes),
      (err: unknown) => logger.error("keys-reload-failed", { message: String(err instanceof Error ? err.message : err) }),
    );
  };
  if (security) process.on("SIGHUP", reload);
  await signalled;
  // The shutdown's last give-backs (naks) are in the connection's buffer: send them before closing.
  await cluster?.conn.nc.flush().catch(() => undefined);
  await cluster?.conn.close();
  metrics?.close();
  process.off("SIGHUP", reload);
  await security?.close();
  return EXIT_OK;
}

function announce(logger: Logger, options: BrokerCommandOptions, bound: EndpointSet, octets: OctetBounds | undefined, security?: BrokerSecurity): void {
  const deadline = options.deadline === null ? "" : `, deadline ${options.deadline / 1000}s`;
  const limits = `tries ${options.tries ?? "unlimited"}, timeout ${options.timeout === null ? "unlimited" : `${options.timeout / 1000}s`}${deadline}`;
  const durable =
    options.cluster !== null
      ? `cluster ${options.cluster.name} as ${options.cluster.brokerId} on ${options.cluster.servers.join(",")}, replicas ${options.cluster.replicas}`
      : options.data === null
        ? "in memory"
        : `journal in ${options.data}, fsync ${options.fsync}`;
  const mib = (n: number): string => `${Math.round((10 * n) / 2 ** 20) / 10} MiB`;
  // With --max-memory the octet bounds the operator left out are shares of it: say what they came to.
  const memory =
    options.maxMemory === undefined || octets === undefined
      ? ""
      : `; memory budget ${mib(options.maxMemory)}: histories ${mib(octets.historyBytes)} each, unsent ${mib(octets.maxUnsentTotal)}, ${mib(octets.maxUnsent)} per peer, unserved tasks ${mib(octets.unservedBytes ?? 0)}, kept results ${mib(octets.keptBytes ?? 0)}`;
  const text =
    `${PREFIX}clients ${bound.clients}, workers ${bound.workers}, answers ${bound.answers}, ` +
    `admin ${bound.admin ?? "off"} (${limits}; ${durable}${memory})`;
  logger.announce("info", "listening", text, {
    clients: bound.clients,
    workers: bound.workers,
    answers: bound.answers,
    admin: bound.admin,
    tries: options.tries,
    timeout: options.timeout,
    deadline: options.deadline,
    data: options.data,
    cluster: options.cluster?.name ?? null,
    brokerId: options.cluster?.brokerId ?? null,
    fsync: options.data === null ? null : options.fsync,
    maxMemory: options.maxMemory ?? null,
    ...(octets === undefined ? {} : octets),
    openFiles: openFileLimit(),
  });
  if (security) {
    const exposed = security.secretFileWarning;
    if (exposed !== undefined && logger.enabled("warn")) {
      logger.announce("warn", "curve-secret-readable", `${PREFIX}--curve-secret ${exposed}`, { message: exposed });
    }
    const text = `${PREFIX}CURVE on, broker public key ${security.publicKey}`;
    logger.announce("info", "curve", text, { publicKey: security.publicKey, ...security.policy.sizes() });
    for (const warning of security.warnings()) {
      if (logger.enabled("warn")) logger.announce("warn", "keys-deny-all", PREFIX + warning, { message: warning });
    }
    return;
  }
  const warning = exposureWarning(
    [
      { name: "clients", endpoint: options.clients },
      { name: "workers", endpoint: options.workers },
      { name: "answers", endpoint: options.answers },
    ],
    options.admin,
  );
  if (warning !== undefined && logger.enabled("warn")) {
    logger.announce("warn", "unauthenticated-endpoints", PREFIX + warning, { message: warning });
  }
}

/** Resolves after the first SIGINT/SIGTERM has shut the server down gracefully; a second one exits the process. */
function runUntilSignalled(server: BrokerServer, grace: number, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn("exit-now", { signal });
        process.exit(EXIT_INTERRUPTED);
      }
      stopping = true;
      logger.info("shutdown", { signal, grace });
      void server.shutdown(grace).then(() => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        logger.info("closed", {}); // sockets closed; the core logged "stopped" when nothing was left pending
        resolve();
      });
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

/**
 * Test failpoint for the crash-point test (test/durability): ZTB_FAILPOINT_CRASH_AFTER_COMMITS=N makes the broker
 * SIGKILL itself right after its Nth journal commit, before that turn's sends.
 */
function crashFailpoint(): number | undefined {
  const text = process.env.ZTB_FAILPOINT_CRASH_AFTER_COMMITS;
  if (text === undefined || !/^[1-9]\d*$/.test(text)) return undefined;
  return Number(text);
}

function packageVersion(): string {
  // out/broker/src/cli -> the package root; broker/src/cli when run from sources.
  for (const candidate of [join(__dirname, "../../../../package.json"), join(__dirname, "../../../package.json")]) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(candidate, "utf8"));
      if (typeof parsed === "object" && parsed !== null && "version" in parsed && typeof parsed.version === "string") {
        return parsed.version;
      }
    } catch {
      // not there: try the next candidate
    }
  }
  return "0.0.0";
}

/**
 * The soft RLIMIT_NOFILE the broker runs with (Node raises it to the hard one at start; nothing in Node can raise the
 * hard one), from /proc on Linux; null elsewhere. Logged at start: each connection takes a descriptor (§Limits).
 */
function openFileLimit(): number | null {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return match?.[1] === undefined ? null : Number(match[1]);
  } catch {
    return null;
  }
}
