/**
 * `npm run chaos`: the full chaos run (≥ 50 000 requests with worker kills), progress every few seconds, the summary,
 * exit status 1 when anything was lost, duplicated, misrouted or unjustified. `--requests N` and `--seed N` override.
 * `--broker-kill`: the durable broker itself is SIGKILLed and restarted every few seconds (run-broker-kill.ts), and
 * also kills itself right after a random journal commit (the failpoint), before that turn's sends; `--signal-only`
 * keeps only the kills from outside.
 * `--cluster`: two cluster brokers over a 3-node nats-server cluster (R3), with brokers, nats-server nodes and workers
 * SIGKILLed and restarted one at a time on a seeded schedule (run-cluster-chaos.ts).
 * `--attack`: hostile peers against a broker with --max-memory while a canary client is timed (run-attack.ts), each
 * alone and then all together; `--seconds N` (per phase), `--max-memory MiB` and `--flood-frames N` override its defaults.
 */
import { parseArgs } from "node:util";
import { CLUSTER_CHAOS_OPTIONS, clusterChaosViolations, faultSchedule, formatClusterChaosSummary, runClusterChaos } from "./run-cluster-chaos";
import { BROKER_KILL_OPTIONS, brokerKillViolations, formatBrokerKillSummary, runBrokerKill } from "./run-broker-kill";
import { ATTACK_OPTIONS, attackViolations, formatAttackSummary, runAttack } from "./run-attack";
import { DEFAULT_OPTIONS, formatSummary, RSS_LIMIT, runChaos, violations } from "./run-chaos";

async function workerKill(requests: number | undefined, seed: number | undefined): Promise<number> {
  const options = {
    ...DEFAULT_OPTIONS,
    requests: requests ?? DEFAULT_OPTIONS.requests,
    seed: seed ?? DEFAULT_OPTIONS.seed,
    progress: (line: string) => console.log(line),
  };
  console.log(`chaos: ${options.requests} requests, broker -t ${options.tries} -T ${options.timeout / 1000}, ${options.workers.length} workers, a kill every ${options.killEvery} ms, seed ${options.seed}`);
  const summary = await runChaos(options);
  console.log(formatSummary(summary));
  return verdict(violations(summary, RSS_LIMIT));
}

async function brokerKill(requests: number | undefined, seed: number | undefined, commitKills: boolean): Promise<number> {
  const options = {
    ...BROKER_KILL_OPTIONS,
    commitKills,
    requests: requests ?? BROKER_KILL_OPTIONS.requests,
    seed: seed ?? BROKER_KILL_OPTIONS.seed,
    progress: (line: string) => console.log(line),
  };
  console.log(
    `chaos --broker-kill: ${options.requests} requests (${options.routed} clients with routing ids, ${options.keyed} keyed clients resending), ` +
      `broker --data --fsync ${options.fsync} -t ${options.tries} -T ${options.timeout / 1000} SIGKILLed every ${options.killMin / 1000}-${options.killMax / 1000} s${commitKills ? " or right after a commit" : ""}, ` +
      `${options.workers.length} workers, a worker kill every ${options.workerKillEvery} ms, seed ${options.seed} (--seed ${options.seed} replays the kills)`,
  );
  const summary = await runBrokerKill(options);
  console.log(formatBrokerKillSummary(summary));
  return verdict(brokerKillViolations(summary));
}

async function clusterChaos(requests: number | undefined, seed: number | undefined): Promise<number> {
  const options = {
    ...CLUSTER_CHAOS_OPTIONS,
    requests: requests ?? CLUSTER_CHAOS_OPTIONS.requests,
    seed: seed ?? CLUSTER_CHAOS_OPTIONS.seed,
    progress: (line: string) => console.log(line),
  };
  const f = options.faults;
  console.log(
    `chaos --cluster: ${options.requests} keyed requests from ${options.brokers * options.clientsPerBroker} clients x ${options.window} lanes (failover to the other broker with the key), ` +
      `${options.brokers} brokers (--replicas 3 --lease ${options.lease / 1000}s -t ${options.tries} -T ${options.timeout / 1000}) over ${options.natsNodes} nats-server nodes, ` +
      `${options.workersPerBroker} workers x cap ${options.capacity} per broker; SIGKILL + restart, one at a time: ${f.broker} brokers, ${f.nats} nats-server nodes, ${f.worker} workers; ` +
      `seed ${options.seed} (--seed ${options.seed} replays the schedule)`,
  );
  console.log(`schedule: ${faultSchedule(options).map((x) => `${x.kind}#${x.victim}@${x.atRequest} down ${x.downMs} ms`).join(", ")}`);
  const summary = await runClusterChaos(options);
  console.log(formatClusterChaosSummary(summary));
  return verdict(clusterChaosViolations(summary));
}

/** The attack phases of `--attack`: each hostile peer alone, then all of them together (the budget must hold in each). */
const ATTACK_PHASES: readonly (readonly string[] | undefined)[] = [
  ["black-hole"],
  ["flood"],
  ["deaf-client"],
  ["deaf-monitor"],
  ["invented-services"],
  undefined,
];

async function attack(seconds: number | undefined, maxMemoryMiB: number | undefined, floodFrames: number | undefined): Promise<number> {
  const options = {
    ...ATTACK_OPTIONS,
    duration: seconds === undefined ? ATTACK_OPTIONS.duration : seconds * 1000,
    maxMemory: maxMemoryMiB === undefined ? ATTACK_OPTIONS.maxMemory : maxMemoryMiB * 1024 * 1024,
    floodFrames: floodFrames ?? ATTACK_OPTIONS.floodFrames,
    progress: (line: string) => console.log(line),
  };
  console.log(
    `chaos --attack: ${options.duration / 1000} s per phase, broker -t 3 -T 1 --max-queue 1000 --max-memory ${options.maxMemory / 1048576}M; ` +
      `a black-hole worker, floods of ${options.floodFrames} empty frames, a client and a monitor that never read, invented services ` +
      `(${options.payload / 1024} KiB requests): each alone on a fresh broker, then all together; a canary client times one request at a time`,
  );
  const found: string[] = [];
  for (const only of ATTACK_PHASES) {
    const phase = only === undefined ? "all together" : only.join(", ");
    console.log(`-- ${phase}`);
    const summary = await runAttack({ ...options, ...(only === undefined ? {} : { only: [...only] }) });
    console.log(formatAttackSummary(summary));
    found.push(...attackViolations(summary, true).map((line) => `${phase}: ${line}`));
  }
  return verdict(found);
}

function verdict(found: string[]): number {
  for (const line of found) console.log(`FAIL: ${line}`);
  console.log(found.length === 0 ? "chaos: PASS" : "chaos: FAIL");
  return found.length === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      requests: { type: "string" },
      seed: { type: "string" },
      "broker-kill": { type: "boolean" },
      "signal-only": { type: "boolean" },
      cluster: { type: "boolean" },
      attack: { type: "boolean" },
      seconds: { type: "string" },
      "max-memory": { type: "string" },
      "flood-frames": { type: "string" },
    },
  });
  const number = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text));
  if (values.attack === true) return attack(number(values.seconds), number(values["max-memory"]), number(values["flood-frames"]));
  const requests = values.requests === undefined ? undefined : Number(values.requests);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (values["signal-only"] === true && values["broker-kill"] !== true) throw new Error("--signal-only needs --broker-kill");
  if (values.cluster === true && values["broker-kill"] === true) throw new Error("--cluster and --broker-kill are separate runs");
  if (values.cluster === true) return clusterChaos(requests, seed);
  return values["broker-kill"] === true ? brokerKill(requests, seed, values["signal-only"] !== true) : workerKill(requests, seed);
}

// Through process.exit, so the exit handlers that kill servers, brokers and workers run when a run is interrupted.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
