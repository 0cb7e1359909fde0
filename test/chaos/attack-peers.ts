/**
 * The hostile peers of the attack mode as a process of their own (run-attack.ts starts it), so that their sending
 * competes with the broker for the machine as a remote attacker's would, not with the canary and the honest workers.
 * Argument: JSON {endpoints, floodFrames, floodEvery, payload}. Prints "ready" once all are connected; on SIGTERM
 * stops, prints the count of messages each sent as one JSON line, and exits.
 */
import { type Attacker, blackHoleWorker, deafClient, deafMonitor, frameFlood, inventedServices } from "./attackers";

export interface AttackPeersConfig {
  endpoints: { clients: string; workers: string; admin: string };
  floodFrames: number;
  /** ms between two flood requests. */
  floodEvery: number;
  payload: number;
  /** Names of the attackers to run (see attackers.ts); all when absent. */
  only?: string[];
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as AttackPeersConfig;
  const { endpoints } = config;
  const all: Record<string, () => Attacker | Promise<Attacker>> = {
    "black-hole": () => blackHoleWorker(endpoints.workers, 500),
    flood: () => frameFlood(endpoints.clients, config.floodFrames, config.floodEvery),
    "deaf-client": () => deafClient(endpoints.clients, config.payload, 2),
    "deaf-monitor": () => deafMonitor(endpoints.admin, 10),
    "invented-services": () => inventedServices(endpoints.clients, config.payload, 2),
  };
  const attackers: Attacker[] = [];
  for (const [name, start] of Object.entries(all)) if (config.only?.includes(name) ?? true) attackers.push(await start());
  process.once("SIGTERM", () => {
    for (const attacker of attackers) attacker.stop();
    process.stdout.write(JSON.stringify(attackers.map(({ name, sent }) => ({ name, sent }))) + "\n", () => process.exit(0));
  });
  process.stdout.write("ready\n");
}

void main();
