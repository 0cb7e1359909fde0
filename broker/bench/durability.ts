/**
 * The cost of durability (issue #10), measured in the same run as everything else: the main throughput case (modern
 * protocol, 4 workers x capacity 16, 16 B) against the in-memory broker and against `--data` with each `--fsync`
 * policy; the journal's size on disk per task after each durable run (with the broker's default `--history`, which
 * bounds the finished tasks the journal keeps); and the recovery of 100 000 queued tasks (recovery.ts).
 *
 * The four modes run in rotation, `rounds` times, and each mode's figure is its median run: on a machine shared with
 * other work the throughput drifts by tens of percent within a minute, and a rotation spreads that drift over every
 * mode instead of charging it to whichever ran last.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FSYNC_POLICIES, type FsyncPolicy } from "../src/protocol/messages";
import { DEFAULT_HISTORY } from "../src/cli/broker-options";
import { journalBytes } from "./journal-size";
import type { RecoveryFigures } from "./recovery";

export type Journal = "memory" | FsyncPolicy;

/** What one throughput case gave: tasks/s, the broker's CPU per task, and every reply of the run (tasks journaled). */
export interface CaseResult {
  rate: number;
  cpuMicros: number;
  replies: number;
}

export interface DurabilityFigures {
  memory: CaseResult;
  modes: { fsync: FsyncPolicy; result: CaseResult; journalBytes: number }[];
  rounds: number;
}

export const MAIN_CASE = { mode: "modern", workers: 4, capacity: 16, payload: 16 } as const;

type Run = { result: CaseResult; journalBytes: number };

/**
 * Runs the main case in memory and durable with each fsync policy, `rounds` times in rotation (`run` starts the
 * broker with `brokerArgs`); each mode keeps its median run.
 */
export async function measureDurability(
  rounds: number,
  run: (journal: Journal, brokerArgs: string[]) => Promise<CaseResult>,
): Promise<DurabilityFigures> {
  const runs = new Map<Journal, Run[]>();
  for (let round = 0; round < rounds; round++) {
    for (const journal of ["memory", ...FSYNC_POLICIES] as const) {
      const list = runs.get(journal) ?? [];
      runs.set(journal, list);
      if (journal === "memory") {
        list.push({ result: await run(journal, []), journalBytes: 0 });
        continue;
      }
      // A new directory each run: the journal's size is that of this run's tasks only.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ztb-bench-${journal}-`));
      try {
        const result = await run(journal, ["--data", dir, "--fsync", journal]);
        list.push({ result, journalBytes: journalBytes(dir) });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const median = (journal: Journal): Run => {
    const sorted = [...(runs.get(journal) ?? [])].sort((a, b) => a.result.rate - b.result.rate);
    const middle = sorted[Math.floor(sorted.length / 2)];
    if (middle === undefined) throw new Error(`no ${journal} run`);
    return middle;
  };
  return {
    memory: median("memory").result,
    modes: FSYNC_POLICIES.map((fsync) => ({ fsync, ...median(fsync) })),
    rounds,
  };
}

const check = (ok: boolean): string => (ok ? "met" : "NOT MET");

/** The lines under the durability table: the journal's size per task and the recovery figures. */
export function durabilityNotes(d: DurabilityFigures, recovery: RecoveryFigures): string[] {
  const out: string[] = [];
  const perTask = d.modes.map((m) => `${m.fsync} ${Math.round(m.journalBytes / Math.max(1, m.result.replies))} B (${(m.journalBytes / 2 ** 20).toFixed(1)} MiB / ${m.result.replies} tasks)`);
  // The history bounds the finished tasks kept, and SQLite reuses the WAL after each checkpoint: the journal's size
  // levels off, so this figure falls as a run grows (the recovery fill below gives the size of tasks that are all kept).
  out.push(`journal on disk per task after each durable run (file + WAL, --history ${DEFAULT_HISTORY}): ${perTask.join(", ")}`);
  const n = recovery.count.toLocaleString("en-US").replace(/,/g, " ");
  out.push(
    `recovery of ${n} queued 16 B tasks (--fsync batch, SIGKILL, restart): listening after ${Math.round(recovery.listeningMs)} ms, ` +
      `SNAPSHOT shows ${n} queued after ${Math.round(recovery.queuedMs)} ms (an in-memory broker listens ${Math.round(recovery.emptyStartMs)} ms after its spawn); ` +
      `journal ${Math.round(recovery.bytesPerQueuedTask)} B per queued task`,
  );
  return out;
}

/** The targets of issue #10, under those of issue #6. */
export function durabilityTargets(d: DurabilityFigures, recovery: RecoveryFigures, quick: boolean): string[] {
  const out = ["targets (issue #10, measured in this run):"];
  const n = recovery.count.toLocaleString("en-US").replace(/,/g, " ");
  const batch = d.modes.find((m) => m.fsync === "batch");
  if (batch !== undefined) {
    const ratio = batch.result.rate / Math.max(1, d.memory.rate);
    out.push(`  durable (--fsync batch) / in-memory throughput >= 0.70: ${ratio.toFixed(2)} ${check(ratio >= 0.7)}`);
  }
  const seconds = recovery.queuedMs / 1000;
  if (recovery.count === 100_000) {
    out.push(`  recovery of 100 000 queued tasks, spawn to SNAPSHOT, <= 2 s: ${seconds.toFixed(2)} s ${check(seconds <= 2)}`);
  } else {
    out.push(`  recovery of 100 000 queued tasks <= 2 s: not checked${quick ? " with --quick" : ""} (${n} tasks took ${seconds.toFixed(2)} s)`);
  }
  return out;
}
