/**
 * The attack mode of `npm run chaos` (issue 14): a broker with `--max-memory`, two honest workers, and hostile peers
 * all at once — frame floods, a client and a monitor that never read, a client inventing services, a black-hole
 * worker — while a canary client sends one request at a time and times each. The broker's resident memory is sampled
 * throughout and its peak (VmHWM) is compared with the budget. Used by main.ts (`--attack`) and attack.test.ts.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Dealer } from "zeromq";
import { Client, ClientTimeoutError } from "../../broker/src/client";
import { decodeAdminReply, encodeAdmin } from "../../broker/src/codec";
import type { Counters, Snapshot } from "../../broker/src/protocol/messages";
import { Worker } from "../../broker/src/worker";
import type { AttackPeersConfig } from "./attack-peers";
import { peakResidentBytes, residentBytes, spawnBroker } from "./broker-process";

export interface AttackOptions {
  /** How long the attack lasts, in ms; the canary runs throughout. */
  duration: number;
  /** The broker's `--max-memory`, in bytes. */
  maxMemory: number;
  /** Empty frames per flood request (over `--max-frames`, so each is refused once received). */
  floodFrames: number;
  /** ms between two flood requests. */
  floodEvery: number;
  /** Octets per request of the non-reading client and of the invented services. */
  payload: number;
  /** More `ztb broker` options (e.g. --max-unsent), before the defaults' own. */
  brokerArgs?: string[];
  /** Only these attackers (attack-peers.ts names); all when absent. */
  only?: string[];
  progress?: (line: string) => void;
}

export const ATTACK_OPTIONS: AttackOptions = {
  duration: 10_000,
  maxMemory: 192 * 1024 * 1024,
  floodFrames: 20_000,
  floodEvery: 100,
  payload: 32 * 1024,
};

/** How long a canary request may wait for its reply before it counts as lost (a cap, far above any honest latency). */
const CANARY_DEADLINE_MS = 30_000;
/** How long after the attack the canary tries to get a request served before the broker counts as not recovered. */
const RECOVERY_MS = 10_000;

export interface AttackSummary {
  seconds: number;
  budget: number;
  /** The broker's resident memory before the attack, its sampled maximum, and its peak (VmHWM) at the end. */
  rssIdle: number;
  rssSampledPeak: number;
  rssPeak: number;
  canary: { sent: number; answered: number; succeeded: number; failures: Record<string, number>; latencies: number[] };
  /** Canary requests that got no reply within CANARY_DEADLINE_MS. */
  lost: number;
  /**
   * Tasks of served services still queued or running once the attackers stopped and the broker had time to finish
   * them; -1 when the broker did not answer SNAPSHOT.
   */
  stuck: number;
  attackers: { name: string; sent: number }[];
  /**
   * ms from the attackers' end (and the broker's tasks finished) to the canary's first succeeded reply; -1 when none
   * came within RECOVERY_MS (the broker still shedding load, say).
   */
  recovery: number;
  counters: Counters | undefined;
  brokerExit: string | undefined;
  brokerLogLines: Record<string, number>;
}

/** SNAPSHOT over a DEALER of its own (the monitor that reads); undefined when the broker does not answer. */
async function snapshot(admin: Dealer): Promise<Snapshot | undefined> {
  try {
    await admin.send(encodeAdmin({ type: "snapshot", path: [Buffer.alloc(0)], query: { tasks: { limit: 1 } } }));
    for (;;) {
      const reply = decodeAdminReply(await admin.receive());
      if (reply.type === "snapshot") return reply.snapshot;
    }
  } catch {
    return undefined; // receiveTimeout: no answer
  }
}

/** The hostile peers' process (attack-peers.ts); resolves once they are all connected. */
async function startAttackers(config: AttackPeersConfig): Promise<{ stop(): Promise<{ name: string; sent: number }[]> }> {
  const child = spawn(process.execPath, [join(__dirname, "attack-peers.js"), JSON.stringify(config)], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const next = (): Promise<string> => new Promise((resolve) => lines.once("line", resolve));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if ((await Promise.race([next(), exited.then(() => "exited")])) !== "ready") throw new Error("the attackers' process did not start");
  return {
    async stop() {
      const counts = next();
      child.kill("SIGTERM");
      const line = await Promise.race([counts, exited.then(() => "[]")]);
      await exited;
      return JSON.parse(line) as { name: string; sent: number }[];
    },
  };
}

/** ms until a canary request succeeds again (tried every 50 ms), or -1 after RECOVERY_MS. */
async function recovered(canary: Client): Promise<number> {
  const from = Date.now();
  while (Date.now() - from < RECOVERY_MS) {
    const reply = await canary.request("canary after the attack").catch(() => undefined);
    if (reply?.status === "succeeded") return Date.now() - from;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return -1;
}

/** Tasks still queued or running for services some worker serves (invented services' tasks wait for one, by rule 9). */
function unfinished(s: Snapshot): number {
  const served = s.services?.filter((svc) => svc.workers > 0).reduce((n, svc) => n + svc.queued, 0) ?? s.counters.queued;
  return served + s.counters.running;
}

export async function runAttack(options: AttackOptions): Promise<AttackSummary> {
  const started = Date.now();
  const broker = await spawnBroker([
    "-t", "3", "-T", "1", "--heartbeat", "500", "--max-queue", "1000",
    "--max-memory", String(options.maxMemory), "--log-level", "warn", ...(options.brokerArgs ?? []),
  ]);
  let brokerExit: string | undefined;
  void broker.exited.then((code) => (brokerExit = `broker exited (${String(code)})`));
  const { endpoints } = broker;
  const rssIdle = residentBytes(broker.pid) ?? 0;
  let rssSampledPeak = rssIdle;
  const sampler = setInterval(() => (rssSampledPeak = Math.max(rssSampledPeak, residentBytes(broker.pid) ?? 0)), 100);
  const workers = [1, 2].map(
    (i) => new Worker({ endpoint: endpoints.workers, name: `honest-${i}`, capacity: 8, handler: async (task) => task.payload }),
  );
  const admin = new Dealer({ linger: 0, receiveTimeout: 10_000 });
  admin.connect(endpoints.admin);
  const canaryClient = new Client({ endpoint: endpoints.clients, deadline: CANARY_DEADLINE_MS });
  let attackers: Awaited<ReturnType<typeof startAttackers>> | undefined;
  let sent: { name: string; sent: number }[] = [];
  const canary = { sent: 0, answered: 0, succeeded: 0, failures: {} as Record<string, number>, latencies: [] as number[] };
  let lost = 0;
  try {
    for (const worker of workers) worker.start();
    attackers = await startAttackers({
      endpoints,
      floodFrames: options.floodFrames,
      floodEvery: options.floodEvery,
      payload: options.payload,
      ...(options.only === undefined ? {} : { only: options.only }),
    });
    const progress = options.progress;
    const reporter =
      progress === undefined
        ? undefined
        : setInterval(() => progress(progressLine(started, canary, lost, rssSampledPeak, options.maxMemory)), 3000);
    while (Date.now() - started < options.duration && brokerExit === undefined) {
      const sentAt = Date.now();
      canary.sent++;
      try {
        const reply = await canaryClient.request(`canary ${canary.sent}`);
        canary.answered++;
        canary.latencies.push(Date.now() - sentAt);
        if (reply.status === "succeeded") canary.succeeded++;
        else canary.failures[reply.reason ?? "?"] = (canary.failures[reply.reason ?? "?"] ?? 0) + 1;
      } catch (err) {
        if (!(err instanceof ClientTimeoutError)) throw err;
        lost++;
      }
    }
    clearInterval(reporter);
    sent = await attackers.stop();
    attackers = undefined;
    // What the black hole held times out (1 s, 3 tries) and is answered elsewhere: wait for the broker to finish.
    let last = brokerExit === undefined ? await snapshot(admin) : undefined;
    for (let wait = 0; wait < 100 && last !== undefined && unfinished(last) > 0; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      last = await snapshot(admin);
    }
    const recovery = brokerExit === undefined ? await recovered(canaryClient) : -1;
    clearInterval(sampler);
    const rssPeak = peakResidentBytes(broker.pid) ?? rssSampledPeak;
    return {
      seconds: (Date.now() - started) / 1000,
      budget: options.maxMemory,
      rssIdle,
      rssSampledPeak,
      rssPeak,
      canary,
      lost,
      stuck: last === undefined ? -1 : unfinished(last),
      attackers: sent,
      recovery,
      counters: last?.counters,
      brokerExit,
      brokerLogLines: Object.fromEntries(broker.events),
    };
  } finally {
    clearInterval(sampler);
    await attackers?.stop();
    await canaryClient.close();
    admin.close();
    await Promise.all(workers.map((w) => w.close()));
    await broker.stop(0);
  }
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

function progressLine(started: number, canary: AttackSummary["canary"], lost: number, rss: number, budget: number): string {
  const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  return `[${elapsed}s] canary ${canary.answered}/${canary.sent} answered, lost ${lost}, broker RSS peak ${mib(rss)} of ${mib(budget)}`;
}

function latency(values: readonly number[]): string {
  if (values.length === 0) return "n/a";
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `median ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, max ${sorted[sorted.length - 1]} ms`;
}

/**
 * What makes an attack run fail: a canary request lost or not answered, tasks left in the broker, the broker gone;
 * with `checkBudget`, a peak resident memory over `--max-memory` too.
 */
export function attackViolations(s: AttackSummary, checkBudget: boolean): string[] {
  const found: string[] = [];
  if (s.lost > 0) found.push(`${s.lost} canary requests lost`);
  if (s.canary.answered !== s.canary.sent - s.lost || s.canary.answered === 0) found.push(`canary answered ${s.canary.answered} of ${s.canary.sent}`);
  if (s.stuck > 0) found.push(`${s.stuck} tasks left queued or running`);
  if (s.stuck < 0) found.push("the broker did not answer SNAPSHOT after the attack");
  if (s.recovery < 0) found.push(`the canary was not served within ${RECOVERY_MS / 1000} s after the attack`);
  if (s.brokerExit !== undefined) found.push(s.brokerExit);
  if (checkBudget && s.rssPeak > s.budget) found.push(`broker peak RSS ${mib(s.rssPeak)} over the --max-memory budget ${mib(s.budget)}`);
  return found;
}

export function formatAttackSummary(s: AttackSummary): string {
  const c = s.counters;
  const lines = [
    `attack summary (${s.seconds.toFixed(1)} s)`,
    `  canary             ${s.canary.sent} sent, ${s.canary.answered} answered (succeeded ${s.canary.succeeded}` +
      `${Object.entries(s.canary.failures).map(([reason, n]) => `, ${reason} ${n}`).join("")}), lost ${s.lost}`,
    `  canary latency     ${latency(s.canary.latencies)}`,
    `  attackers          ${s.attackers.map((a) => `${a.name} ${a.sent}`).join(", ")}`,
    `  broker RSS         idle ${mib(s.rssIdle)}, sampled peak ${mib(s.rssSampledPeak)}, peak (VmHWM) ${mib(s.rssPeak)} = ` +
      `${((100 * s.rssPeak) / s.budget).toFixed(0)} % of --max-memory ${mib(s.budget)}`,
    `  tasks left         ${s.stuck}`,
    `  after the attack   ${s.recovery < 0 ? `canary not served within ${RECOVERY_MS / 1000} s` : `canary served after ${s.recovery} ms`}`,
  ];
  if (c !== undefined) {
    lines.push(
      `  broker counters    requests ${c.requests}, succeeded ${c.succeeded}, failed ${c.failed}, rejected ${c.rejected}, ` +
        `retried ${c.retried}, malformed client ${c.malformed.client}`,
    );
  }
  lines.push(`  broker log lines   ${Object.entries(s.brokerLogLines).map(([event, n]) => `${event} ${n}`).join(", ")}`);
  return lines.join("\n");
}
