/**
 * `npm run chaos`: the full chaos run (≥ 50 000 requests with worker kills), progress every few seconds, the summary,
 * exit status 1 when anything was lost, duplicated, misrouted or unjustified. `--requests N` and `--seed N` override.
 */
import { parseArgs } from "node:util";
import { DEFAULT_OPTIONS, formatSummary, RSS_LIMIT, runChaos, violations } from "./run-chaos";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { requests: { type: "string" }, seed: { type: "string" } } });
  const requests = values.requests === undefined ? DEFAULT_OPTIONS.requests : Number(values.requests);
  const seed = values.seed === undefined ? DEFAULT_OPTIONS.seed : Number(values.seed);
  const options = { ...DEFAULT_OPTIONS, requests, seed, progress: (line: string) => console.log(line) };
  console.log(`chaos: ${requests} requests, broker -t ${options.tries} -T ${options.timeout / 1000}, ${options.workers.length} workers, a kill every ${options.killEvery} ms, seed ${seed}`);
  const summary = await runChaos(options);
  console.log(formatSummary(summary));
  const found = violations(summary, RSS_LIMIT);
  for (const line of found) console.log(`FAIL: ${line}`);
  console.log(found.length === 0 ? "chaos: PASS" : "chaos: FAIL");
  return found.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
