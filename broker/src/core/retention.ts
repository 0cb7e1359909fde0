/**
 * How long finished tasks stay (protocol/spec.md §Limits, §Durability): the defaults of `--keep-failed`,
 * `--keep-results` and the bound on kept results, in one place for the core, the CLI and its help.
 */

/** Failed tasks kept as dead letters, oldest dropped first beyond this (like Sidekiq's dead set of 10 000). */
export const KEEP_FAILED = 10_000;
/** A finished task with an idempotency key answers resends for this long: 10 minutes. */
export const KEEP_RESULTS_MS = 10 * 60 * 1000;
/** At most this many finished tasks are kept for their key; the oldest expire early beyond it. */
export const MAX_KEPT = 100_000;

/** Octets of payload and reply frames each history (succeeded, cancelled, failed) keeps at most: 64 MiB. */
export const HISTORY_BYTES = 64 * 1024 * 1024;

/**
 * What one kept frame costs beyond its octets (a Buffer and its bookkeeping in zeromq.js and Node, ~0.4 KB measured
 * per received frame, protocol/spec.md §Limits): a history of many empty frames is bounded too.
 */
export const FRAME_COST = 400;
