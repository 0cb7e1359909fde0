/**
 * What chaos clients and chaos workers agree on without talking: request tags and the workers' misbehaviours.
 *
 * Every request's first payload frame is a unique tag `<client>-<seq>`; every 50th request is "poison" (tag ending in
 * `!`): modern workers always answer it with a non-retryable FAIL, legacy workers (who cannot FAIL) drop it. So a
 * client knows, from the tag alone, which failures a non-retryable FAIL justifies.
 */

export const POISON_EVERY = 50;

export function makeTag(client: string, seq: number): string {
  return `${client}-${seq}${seq % POISON_EVERY === POISON_EVERY - 1 ? "!" : ""}`;
}

export function isPoison(tag: string): boolean {
  return tag.endsWith("!");
}

/** Probabilities per task (independent of the tag), applied in this order; the rest are answered once, at once. */
export interface Misbehaviour {
  /** Never answered (the broker's attempt timeout retries it; a modern worker's slot is freed by CANCEL). */
  drop: number;
  /** FAIL retryable (modern only; legacy workers drop instead). */
  fail: number;
  /** Answered after the attempt has timed out (timeout + 250 ms): first answer wins, or it is discarded as late. */
  late: number;
  /** Answered twice, the second answer 20 ms after the first. */
  twice: number;
}

export const DEFAULT_MISBEHAVIOUR: Misbehaviour = { drop: 0.1, fail: 0.03, late: 0.05, twice: 0.05 };

export type Action = "poison" | "drop" | "fail" | "late" | "twice" | "answer";

export function chooseAction(tag: string, random: () => number, m: Misbehaviour): Action {
  if (isPoison(tag)) return "poison";
  let r = random();
  if ((r -= m.drop) < 0) return "drop";
  if ((r -= m.fail) < 0) return "fail";
  if ((r -= m.late) < 0) return "late";
  if ((r -= m.twice) < 0) return "twice";
  return "answer";
}

/** A small seeded PRNG (mulberry32), so a chaos run's choices can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
