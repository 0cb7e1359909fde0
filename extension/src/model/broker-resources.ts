/**
 * What SNAPSHOT `broker` says about the broker's resources (protocol/spec.md §Limits): its memory budget and load
 * shedding (`memory`, with --max-memory) and its connections per endpoint (`connections`). Both members are newer
 * than ZTB/1.0 and `memory` may grow members, so they are read defensively, as clusterOf reads `cluster`: a missing
 * or malformed member is no row, not an error. Pure: no vscode.
 */
import type { BrokerInfo, ConnectionCounts } from "../../../broker/src/protocol/messages";
import { MEMORY } from "../../../broker/src/core/memory-budget";

/** §Memory budget: the shares of --max-memory where shedding starts, for held and for resident memory (not in SNAPSHOT). */
export const SHED_AT = MEMORY.shedAt;
export const RESIDENT_AT = MEMORY.residentAt;

export interface MemoryInfo {
  /** --max-memory, bytes. */
  budget: number;
  /** The broker's last resident-memory sample, bytes. */
  rss: number;
  /** Memory the broker holds, bytes, when it says (newer brokers). */
  live?: number;
  /** New requests are refused with queue-full. */
  shedding: boolean;
}

export type CountedEndpoint = keyof ConnectionCounts;
export type Connections = { endpoint: CountedEndpoint; peers: number; handshakes: number }[];

/** The order the Broker view lists endpoints in (its Endpoints group's order). */
const ENDPOINTS: readonly CountedEndpoint[] = ["clients", "workers", "answers", "admin"];

export function memoryOf(info: BrokerInfo): MemoryInfo | undefined {
  const raw = record((info as { memory?: unknown }).memory);
  if (!raw) return undefined;
  const { budget, rss, live, shedding } = raw;
  if (!isCount(budget) || budget === 0 || !isCount(rss) || typeof shedding !== "boolean") return undefined;
  return isCount(live) ? { budget, rss, live, shedding } : { budget, rss, shedding };
}

/** The endpoints the broker counts, in view order; undefined from a broker that does not count them. */
export function connectionsOf(info: BrokerInfo): Connections | undefined {
  const raw = record((info as { connections?: unknown }).connections);
  if (!raw) return undefined;
  const out: Connections = [];
  for (const endpoint of ENDPOINTS) {
    const count = record(raw[endpoint]);
    if (count) out.push({ endpoint, peers: isCount(count["peers"]) ? count["peers"] : 0, handshakes: isCount(count["handshakes"]) ? count["handshakes"] : 0 });
  }
  return out;
}

export type SheddingChange = { kind: "started" | "ended"; memory: MemoryInfo };

/**
 * Whether load shedding started or ended between two readings of the broker's info (snapshots or refreshes), so a
 * person is told once per episode, not once per reading. Attaching to a broker that is shedding already counts as a
 * start; so does a broker restarted behind the same endpoint (another `startedAt`), whose episode is a new one.
 */
export function sheddingChange(before: BrokerInfo | undefined, after: BrokerInfo | undefined): SheddingChange | undefined {
  const now = after && memoryOf(after);
  if (!now) return undefined;
  const sameBroker = before !== undefined && before.startedAt === after.startedAt;
  const was = sameBroker ? memoryOf(before)?.shedding === true : false;
  if (now.shedding && !was) return { kind: "started", memory: now };
  if (!now.shedding && was) return { kind: "ended", memory: now };
  return undefined;
}

/** The warning shown when shedding starts (and logged). */
export function sheddingWarning(memory: MemoryInfo): string {
  return (
    `ZeroMQ Broker is near its memory budget (--max-memory ${mib(memory.budget)}): ` +
    `new requests are refused with queue-full`
  );
}

/** Whole MiB, as `ztb status` prints them. */
export function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}

export function percent(share: number): string {
  return `${Math.round(100 * share)} %`;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
