import type { CoreConfig } from "../src/core/api";

/**
 * The core's configuration for the in-process benchmarks (core-cost.ts, shell-cost.ts): no attempt limit, no queue
 * bound, workers' heartbeats far apart; only the attempt timeout differs between them.
 */
export function benchCoreConfig(timeout: number | null): CoreConfig {
  return {
    tries: null,
    timeout,
    heartbeat: 60_000,
    maxQueue: null,
    history: 1000,
    services: [],
    bootNonce: "bench",
    info: { version: "bench", endpoints: { clients: "c", workers: "w", answers: "a", admin: null } },
  };
}
