/**
 * `--max-memory` (protocol/spec.md §Memory budget): where load shedding starts and ends, and how the bounds that
 * hold octets for a long time — the histories, the send backlogs, the tasks for services nobody serves and the kept
 * results — are sized from the budget when the operator did not size them, so that what they may keep fits under the line where shedding starts. Shedding refuses
 * new requests, which frees nothing those bounds hold: were they bigger than the room below that line, a broker that
 * filled them (a client that never reads, a history of large replies) would refuse every request for ever.
 */
import { DEFAULT_MAX_UNSENT, DEFAULT_MAX_UNSENT_TOTAL } from "../protocol/limits";
import { HISTORY_BYTES } from "./retention";

/**
 * New requests are refused (queue-full) while either of two estimates is over its line, and taken again once both
 * have stayed under for `calmFor` ms (so the broker does not flap at a line):
 * - the memory the broker holds — V8's heap, the buffers of tasks, replies and backlogs, and what it used idle at
 *   start — reaches `shedAt` of the budget. Refusing requests is what stops it growing.
 * - its resident memory, whatever holds it, reaches `residentAt`: libzmq's buffers of messages not yet read, and what
 *   the allocator keeps of memory the broker freed. Neither is freed by refusing requests, so this line is higher.
 * Both are needed. The allocator keeps much of what the broker freed (refused requests, finished tasks) as resident
 * memory it reuses before growing: after a burst the resident memory may stay high for ever while the broker holds
 * little (measured: 87 % of the budget after a flood of 2 KiB requests expired, holding 55 %), and a broker
 * shedding on resident memory alone would refuse every request from then on.
 * Octets taken in since the last sample count `heldFactor` times, and each task `taskCost` more (its bookkeeping in
 * the core, zeromq.js and V8, ~0.8 KB measured per queued task): the margin absorbs what arrives between samples.
 * The bounds that keep octets for long are sized below `plannedAt` (octetBounds).
 */
export const MEMORY = { shedAt: 0.8, residentAt: 0.9, calmFor: 1000, plannedAt: 0.7, heldFactor: 2, taskCost: 1024 } as const;

/**
 * Of the room below `plannedAt` of the budget (roomBelowPlanned): the share each of the three histories keeps by default, the share of all send backlogs, how many peers' worth one backlog is, the share of the tasks of services
 * nobody serves, and that of the finished tasks kept for their idempotency key. Together 11/16 of the room; the rest
 * is for queued and running tasks, V8's heap and libzmq's buffers, which shedding does bound.
 */
export const SHARES = { history: 1 / 16, unsentTotal: 1 / 4, peersPerBacklog: 4, unserved: 1 / 8, kept: 1 / 8 } as const;

/** The start is refused when less than this share of the budget is left below `plannedAt` (decision). */
export const MIN_ROOM = 0.15;

/**
 * The bounds that hold octets: `--history-bytes`, `--max-unsent`, `--max-unsent-total`, and (only with a budget,
 * null otherwise) what the tasks of services nobody serves, and the results kept for idempotency keys, may hold.
 */
export interface OctetBounds {
  historyBytes: number;
  maxUnsent: number;
  maxUnsentTotal: number;
  unservedBytes: number | null;
  keptBytes: number | null;
}

export const DEFAULT_OCTET_BOUNDS: OctetBounds = {
  historyBytes: HISTORY_BYTES,
  maxUnsent: DEFAULT_MAX_UNSENT,
  maxUnsentTotal: DEFAULT_MAX_UNSENT_TOTAL,
  unservedBytes: null,
  keptBytes: null,
};

/**
 * What V8 adds to the memory in use at start as soon as requests flow: it grows its young generation from 1 MiB
 * towards 2 x 16 MiB under allocation (measured: +20 MiB of heap within 100 ms of a flood of small requests). It is
 * planned for, not counted after the fact: counted, it took a broker with 64 MiB above idle past its budget.
 */
export const LOAD_RESERVE = 24 * 1024 * 1024;

/**
 * Octets below `plannedAt` of the budget not in use at start nor reserved for V8 under load (LOAD_RESERVE); negative
 * when the budget is smaller than that.
 */
export function roomBelowPlanned(budget: number, inUseAtStart: number): number {
  return MEMORY.plannedAt * budget - inUseAtStart - LOAD_RESERVE;
}

/**
 * Why `budget` cannot work for a broker using `inUseAtStart` octets idle (a one-line error), or undefined when it can:
 * below `plannedAt` at least MIN_ROOM of the budget must be left, else shedding starts with the first requests.
 */
export function budgetProblem(budget: number, inUseAtStart: number): string | undefined {
  if (roomBelowPlanned(budget, inUseAtStart) >= MIN_ROOM * budget) return undefined;
  const mib = (n: number): number => Math.ceil(n / 2 ** 20);
  const least = (inUseAtStart + LOAD_RESERVE) / (MEMORY.plannedAt - MIN_ROOM);
  return `--max-memory ${mib(budget)} MiB is too small: the broker uses ${mib(inUseAtStart)} MiB before any peer connects and ${mib(LOAD_RESERVE)} MiB more under load, which leaves no room for tasks (give at least ${mib(least)}M)`;
}

/**
 * The octet bounds in force: each one the operator gave, else with a budget its share of the room below `plannedAt`
 * (never more than the default without a budget), else the default.
 */
export function octetBounds(given: Partial<Pick<OctetBounds, "historyBytes" | "maxUnsent" | "maxUnsentTotal">>, budget: number | undefined, inUseAtStart: number): OctetBounds {
  const room = budget === undefined ? Infinity : Math.max(0, roomBelowPlanned(budget, inUseAtStart));
  const share = (fraction: number, fallback: number): number => Math.min(fallback, Math.floor(room * fraction));
  const maxUnsentTotal = given.maxUnsentTotal ?? share(SHARES.unsentTotal, DEFAULT_OCTET_BOUNDS.maxUnsentTotal);
  return {
    historyBytes: given.historyBytes ?? share(SHARES.history, DEFAULT_OCTET_BOUNDS.historyBytes),
    maxUnsent: given.maxUnsent ?? Math.min(DEFAULT_OCTET_BOUNDS.maxUnsent, Math.floor(maxUnsentTotal / SHARES.peersPerBacklog)),
    maxUnsentTotal,
    unservedBytes: budget === undefined ? null : Math.floor(room * SHARES.unserved),
    keptBytes: budget === undefined ? null : Math.floor(room * SHARES.kept),
  };
}
