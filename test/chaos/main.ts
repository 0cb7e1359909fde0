/**
 * `npm run chaos`: the full chaos run (≥ 50 000 requests with worker kills), progress every few seconds, the summary,
 * exit status 1 when anything was lost, duplicated, misrouted or unjustified. `--requests N` and `--seed N` override.
 * `--broker-kill`: the durable broker itself is SIGKILLed and restarted every few seconds (run-broker-kill.ts), and
 * also kills itself right after a random journal commit (the failpoint), before that turn's sends; `--signal-only`
 * keeps only the kills from outside.
 */
import { parseArgs } from "node:util";
import { BROKER_KILL_OPTIONS, brokerKillViolations, formatBrokerKillSummary, runBrokerKill } from "./run-broker-kill";
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

function verdict(found: string[]): number {
  for (const line of found) console.log(`FAIL: ${line}`);
  console.log(found.length === 0 ? "chaos: PASS" : "chaos: FAIL");
  return found.length === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { requests: { type: "string" }, seed: { type: "string" }, "broker-kill": { type: "boolean" }, "signal-only": { type: "boolean" } },
  });
  const requests = values.requests === undefined ? undefined : Number(values.requests);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (values["signal-only"] === true && values["broker-kill"] !== true) throw new Error("--signal-only needs --broker-kill");
  return values["broker-kill"] === true ? brokerKill(requests, seed, values["signal-only"] !== true) : workerKill(requests, seed);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
