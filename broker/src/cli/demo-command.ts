/**
 * `ztb demo` (`npm run demo`): the 2010 prototype's README walk-through in one command. It starts, on free local
 * ports, `ztb broker -t 3 -T 2` (the prototype's values), two `ztb worker ... 0.1` dropping 10 % of their tasks —
 * worker-1 on the modern protocol, worker-2 on the prototype's REQ/PUSH protocol (--legacy) — and `ztb client` with
 * 4 clients x 75 requests. Every child's output is shown with a coloured name prefix; dropped tasks, retries and
 * failures stand out. It ends with a summary and exits 0 when every request got exactly one reply.
 *
 * With 3 attempts and 10 % drops a request fails only when all three attempts are dropped (1 in 1 000), so a run of
 * 300 usually shows none. Two requests are therefore poison (`ztb worker --poison`): every worker drops them, and the
 * walk-through's last promise — after the maximum number of attempts the client gets a failure — is seen every run.
 *
 * The client is enveloped by default, so the summary can count retries and failure reasons; --plain uses the
 * prototype's plain requests instead (no reasons, no attempt counts). Children are stopped on exit and on Ctrl-C.
 *
 * --crash (demo-crash.ts) runs the broker durable (--data in a temp dir), SIGKILLs it once 40 % of the replies are in,
 * and restarts it on the same data directory and ports; the summary must still say nothing was lost.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { summaryText, type LoadSummary } from "./load-stats";
import { fraction, integer, parsing, UsageError } from "./peer-args";
import { colourEnabled, paint, type Colour } from "./show";
import { crashClientArgs, CRASH_AFTER, killAndRestart, type CrashReport } from "./demo-crash";

export const DEMO_USAGE = `Usage: ztb demo [options]

The 2010 prototype's walk-through in one command, on free ports of 127.0.0.1:
  ztb broker -t 3 -T 2 CLIENTS WORKERS ANSWERS    3 attempts of at most 2 s each
  ztb worker WORKERS ANSWERS 0.1 (worker-1)       modern protocol, drops 10 % of its tasks
  ztb worker --legacy WORKERS ANSWERS 0.1 (worker-2)  the prototype's REQ/PUSH protocol, drops 10 %
  ztb client -n 4 --count 75 CLIENTS              4 clients sending 75 numbered requests each
A dropped task is retried after its 2 s timeout; after 3 attempts the client gets a failure reply.
A few requests are poison (--poison): every worker drops them, so each shows the failure after the last attempt.
Ends with a summary; exit status 0 when every request got exactly one reply.

Options:
  -n, --clients N     concurrent clients (default 4)
  --count N           requests per client (default 75)
  -t, --tries N       broker: attempts per task (default 3)
  -T, --timeout SECS  broker: seconds per attempt (default 2)
  --drop F            fraction of tasks each worker drops (default 0.1)
  --poison N          requests every worker drops, spread over the run (default 2; 0 for none)
  --plain             the prototype's plain client requests (no reasons or attempt counts in the summary)
  --crash             durable broker (--data in a temp dir) killed with SIGKILL mid-run and restarted on
                      the same data directory and ports; clients get routing ids and keys (not with --plain)
  -h, --help          show this help
`;

const OPTIONS = {
  clients: { type: "string", short: "n" },
  count: { type: "string" },
  tries: { type: "string", short: "t" },
  timeout: { type: "string", short: "T" },
  drop: { type: "string" },
  poison: { type: "string" },
  plain: { type: "boolean" },
  crash: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

interface DemoOptions {
  clients: number;
  count: number;
  tries: number;
  timeout: string;
  drop: number;
  /** Numbers of the requests every worker drops ("request N"). */
  poison: number[];
  plain: boolean;
  crash: boolean;
}

function parseDemoArgs(argv: string[]): DemoOptions | null {
  const { values, positionals } = parsing(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help === true) return null;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const timeout = values.timeout ?? "2";
  if (!/^(\d+\.?\d*|\.\d+)$/.test(timeout) || Number(timeout) <= 0) throw new UsageError(`-T must be a positive number of seconds, not "${timeout}"`);
  const clients = integer("--clients", values.clients, 4, 1, 1000);
  const count = integer("--count", values.count, 75, 1, 1_000_000);
  // Plain requests carry no key and the plain client sets no routing id: a restart could strand them (not promised).
  if (values.crash === true && values.plain === true) throw new UsageError("--crash needs the enveloped client (not --plain)");
  return {
    clients,
    count,
    tries: integer("--tries", values.tries, 3, 1, 1000),
    timeout,
    drop: fraction("--drop", values.drop, 0.1),
    poison: spread(integer("--poison", values.poison, 2, 0, 100), clients * count),
    plain: values.plain === true,
    crash: values.crash === true,
  };
}

/** `n` request numbers evenly spread over 1..total (fewer when total is small), e.g. 2 of 300: 100 and 200. */
export function spread(n: number, total: number): number[] {
  const numbers = new Set<number>();
  for (let k = 1; k <= n; k++) numbers.add(Math.max(1, Math.min(total, Math.round((k * total) / (n + 1)))));
  return [...numbers];
}

export interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** Extra listeners for the child's output lines (both streams share one reader each). */
  watchers: Set<(line: string) => void>;
}

export async function runDemoCommand(argv: string[]): Promise<number> {
  const options = parseDemoArgs(argv);
  if (options === null) {
    process.stdout.write(DEMO_USAGE);
    return 0;
  }
  const colour = colourEnabled(process.stdout);
  const children: Child[] = [];
  const killAll = (): void => {
    for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL");
  };
  process.on("exit", killAll);
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stdout.write(paint(colour, "yellow", "demo: interrupted, stopping everything\n"));
    void stopAll(children).then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const dataDir = options.crash ? fs.mkdtempSync(path.join(os.tmpdir(), "ztb-demo-")) : undefined;

  try {
    const [clientsPort, workersPort, answersPort, adminPort] = await freePorts(4);
    const local = (port: number | undefined): string => `tcp://127.0.0.1:${port}`;
    const [clients, workers, answers, admin] = [local(clientsPort), local(workersPort), local(answersPort), local(adminPort)];
    const drop = String(options.drop);
    const say = (text: string): void => {
      process.stdout.write(`${paint(colour, "bold", "demo")}      ${text}\n`);
    };
    say(`broker -t ${options.tries} -T ${options.timeout}, two workers dropping ${options.drop * 100} % (worker-1 modern, worker-2 legacy), ${options.clients} clients x ${options.count} requests`);
    if (options.poison.length > 0) {
      say(`${listed(options.poison)} ${options.poison.length === 1 ? "is" : "are"} poison: every worker drops ${options.poison.length === 1 ? "it" : "them"}, so after ${options.tries} attempt${options.tries === 1 ? "" : "s"} the client gets a failure`);
    }
    const poison = options.poison.flatMap((n) => ["--poison", `request ${n}`]);

    const brokerArgs = ["broker", "-t", String(options.tries), "-T", options.timeout, "--admin", admin, "--log-level", "info"];
    if (dataDir !== undefined) {
      brokerArgs.push("--data", dataDir);
      say(`durable broker (--data ${dataDir}): killed with SIGKILL once ${CRASH_AFTER * 100} % of the replies are in, then restarted on the same data directory and ports`);
      say("clients have routing ids (a pending reply reaches its client after the restart, no resend) and idempotency keys (a request still travelling at the kill is resent and runs once)");
    }
    brokerArgs.push(clients, workers, answers);
    let broker = start(children, "broker", "cyan", colour, brokerArgs);
    await waitForLine(broker, /listening|clients tcp/, 10_000);
    const worker1 = start(children, "worker-1", "green", colour, ["worker", "--name", "worker-1", ...poison, workers, answers, drop]);
    const worker2 = start(children, "worker-2", "magenta", colour, ["worker", "--legacy", "--name", "worker-2", ...poison, workers, answers, drop]);
    await Promise.all([waitForLine(worker1, /ready/, 10_000), waitForLine(worker2, /connected/, 10_000)]);

    let summary: LoadSummary | undefined;
    const clientArgs = ["client", "-n", String(options.clients), "--count", String(options.count), "--summary-json", clients];
    if (!options.plain) clientArgs.splice(1, 0, "--enveloped");
    if (options.crash) clientArgs.splice(1, 0, ...crashClientArgs(options.tries, Number(options.timeout)));
    let crash: Promise<CrashReport> | undefined;
    let answered = 0;
    const total = options.clients * options.count;
    const client = start(children, "client", "blue", colour, clientArgs, (line) => {
      if (options.crash && /^request \d+ -> (?!no reply)/.test(line) && ++answered >= Math.max(1, Math.floor(total * CRASH_AFTER)) && crash === undefined) {
        crash = killAndRestart({ broker, brokerArgs, admin, answered, total, say, colour, restart: (args) => start(children, "broker", "cyan", colour, args), waitForLine });
        void crash.then((report) => (broker = report.broker));
      }
      if (!line.startsWith('{"summary"')) return false;
      summary = (JSON.parse(line) as { summary: LoadSummary }).summary;
      return true;
    });
    const clientExit = await client.exited;
    const crashed = crash === undefined ? undefined : await crash;
    if (crashed !== undefined) broker = crashed.broker;
    // Workers first, so they leave with DISCONNECT {bye} rather than reconnecting after the broker's shutdown.
    await stopAll([worker1, worker2]);
    await stopAll([broker]);

    if (summary === undefined) {
      say(paint(colour, "red", `the client ended (exit ${clientExit}) without a summary`));
      return 1;
    }
    const ok =
      clientExit === 0 && summary.lost === 0 && summary.duplicates === 0 && summary.replies === summary.requests && (!options.crash || crashed?.restarted === true);
    process.stdout.write("\n" + report(summary, options, colour, crashed) + "\n");
    say(ok ? paint(colour, "green", "every request got exactly one reply") : paint(colour, "red", "NOT every request got exactly one reply"));
    return ok ? 0 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    killAll();
    process.off("exit", killAll);
    if (dataDir !== undefined) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(s: LoadSummary, options: DemoOptions, colour: boolean, crashed: CrashReport | undefined): string {
  const reasons = Object.entries(s.failedBy);
  const lines = [
    paint(colour, "bold", "Summary"),
    `  requests    ${s.requests}`,
    `  replies     ${s.replies}`,
    `  succeeded   ${s.succeeded}`,
    `  failed      ${s.failed}${reasons.length > 0 ? ` (${reasons.map(([reason, n]) => `${reason} ${n}`).join(", ")})` : ""}${options.poison.length > 0 ? `; poison: ${listed(options.poison)}` : ""}`,
    `  retried     ${s.retried === null ? "not reported in plain mode" : s.retried}`,
    `  duplicates  ${s.duplicates}`,
    `  lost        ${s.lost}`,
    `  time        ${s.seconds.toFixed(1)} s (${s.rate} requests/s)`,
    "",
    `  ${summaryText(s)}`,
  ];
  if (options.plain) lines.push("  (plain mode: a failure is the prototype's empty answer, so no reason is known)");
  if (options.crash) lines.splice(8, 0, `  broker      ${crashed?.text ?? "was not killed (the client ended first)"}`);
  return lines.join("\n");
}

/** "request 100 and request 200". */
function listed(numbers: number[]): string {
  const names = numbers.map((n) => `request ${n}`);
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1) ?? ""}`;
}

/** The compiled CLI entry point next to this file. */
function cliPath(): string {
  return require.resolve("./main");
}

function start(
  children: Child[],
  name: string,
  colourName: Colour,
  colour: boolean,
  args: string[],
  intercept?: (line: string) => boolean,
): Child {
  const child = spawn(process.execPath, [cliPath(), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
  });
  const prefix = paint(colour, colourName, name.padEnd(9));
  const watchers = new Set<(line: string) => void>();
  const show = (line: string): void => {
    for (const watcher of watchers) watcher(line);
    if (intercept?.(line) === true) return;
    process.stdout.write(`${prefix} ${highlight(line, colour)}\n`);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream !== null) createInterface({ input: stream }).on("line", show);
  }
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.on("error", () => resolve(null));
  });
  const entry = { name, process: child, exited, watchers };
  children.push(entry);
  return entry;
}

/** Dropped tasks, retries and failures in colour, so the broker's work is visible in the stream. */
function highlight(line: string, colour: boolean): string {
  if (/LOST|NOT /.test(line) || /failed|error/i.test(line)) return paint(colour, "red", line);
  if (/dropping|attempts? [2-9]|retr|timeout|cancel/i.test(line)) return paint(colour, "yellow", line);
  return line;
}

export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = (line: string): void => {
      if (pattern.test(line)) done();
    };
    const done = (error?: Error): void => {
      clearTimeout(timer);
      child.watchers.delete(watcher);
      if (error === undefined) resolve();
      else reject(error);
    };
    const timer = setTimeout(() => done(new Error(`${child.name} did not start within ${timeoutMs} ms`)), timeoutMs);
    child.watchers.add(watcher);
    void child.exited.then((code) => done(new Error(`${child.name} exited (${code}) while starting`)));
  });
}

/** SIGTERM, then SIGKILL after 3 s. */
async function stopAll(children: Child[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.process.exitCode !== null || child.process.signalCode !== null) return;
      child.process.kill("SIGTERM");
      const timer = setTimeout(() => child.process.kill("SIGKILL"), 3000);
      await child.exited;
      clearTimeout(timer);
    }),
  );
}

/** Ports the OS says are free right now (bound to port 0 and released; a tiny race, acceptable for a demo). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(server));
      });
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
