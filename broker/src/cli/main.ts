#!/usr/bin/env node
/**
 * The `ztb` command: one flat dispatch table of subcommands, each `(argv) => Promise<exit code>`, loaded on demand
 * (so `ztb --help` does not load zeromq and the codec's schemas). To add a command, add a row.
 *
 * Errors: a UsageError is one line `ztb <cmd>: <message> (see ztb <cmd> --help)` and exit 2; anything unexpected is
 * one line and exit 1, with the stack only when ZTB_DEBUG=1. Never a stack trace for a user's mistake.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  broker: {
    summary: "run the task broker (ztb broker -t 3 -T 2 CLIENTS WORKERS ANSWERS)",
    run: async (argv) => (await import("./broker-command.js")).runBrokerCommand(argv),
  },
  worker: {
    summary: "run a test worker that echoes its tasks, dropping some (ztb worker WORKERS ANSWERS 0.1)",
    run: async (argv) => (await import("./worker-command.js")).runWorkerCommand(argv),
  },
  client: {
    summary: "run test clients sending numbered requests, or send one request (ztb client send)",
    run: async (argv) => (await import("./client-command.js")).runClientCommand(argv),
  },
  demo: {
    summary: "the prototype's walk-through in one command: a broker, two workers, clients",
    run: async (argv) => (await import("./demo-command.js")).runDemoCommand(argv),
  },
  conformance: {
    summary: "check a worker or client implementation against the protocol spec",
    run: async (argv) => (await import("./conformance-command.js")).runConformanceCommand(argv),
  },
  status: {
    summary: "print a running broker's state, workers and queues as tables (ztb status [ADMIN])",
    run: async (argv) => (await import("./status-command.js")).runStatusCommand(argv),
  },
  keygen: {
    summary: "generate a CURVE key pair",
    run: async (argv) => (await import("./keygen-command.js")).runKeygenCommand(argv),
  },
};

const EXIT_USAGE = 2;

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const rows = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: ztb <command> [options]

ztb is a ZeroMQ task broker where workers fetch their tasks: retries on timeout, a failure reply after the
last attempt, workers in any language.

Commands:
${rows.join("\n")}

Options:
  -h, --help     show this help (ztb <command> --help for a command's options)
  -V, --version  show the version

Set ZTB_DEBUG=1 to see stack traces of unexpected errors.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`ztb ${version()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    process.stderr.write(`ztb: unknown command "${name}" (see ztb --help)\n`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (isUsageError(err)) {
      const shown = typeof err.command === "string" ? err.command : name;
      process.stderr.write(`ztb ${shown}: ${err.message} (see ztb ${shown} --help)\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

/** By name: the broker's and the peers' commands throw UsageError (and its subclass for subcommands). */
function isUsageError(err: unknown): err is Error & { command?: unknown } {
  return err instanceof Error && err.name === "UsageError";
}

function version(): string {
  // out/broker/src/cli -> the package root; broker/src/cli when run from sources.
  for (const candidate of [join(__dirname, "../../../../package.json"), join(__dirname, "../../../package.json")]) {
    try {
      const parsed = JSON.parse(readFileSync(candidate, "utf8")) as { name?: unknown; version?: unknown };
      if (parsed.name === "ztb" && typeof parsed.version === "string") return parsed.version;
    } catch {
      // not there: try the next candidate
    }
  }
  return "unknown";
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Let stdout drain and exit naturally; if a library left a handle open, do not hang on it.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`ztb: ${message}\n`);
      if (process.env.ZTB_DEBUG === "1" && err instanceof Error && err.stack !== undefined) process.stderr.write(err.stack + "\n");
      process.exitCode = 1;
    },
  );
}
