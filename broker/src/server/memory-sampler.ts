/**
 * The shell's half of `--max-memory` (protocol/spec.md §Limits, load shedding): samples what the core's shedding
 * rules compare with the budget (core/memory-budget.ts) — the resident memory, and the memory the broker holds.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { MEMORY } from "../core/memory-budget";

/** How often the memory is sampled (the core adds what it took in since). */
export const MEMORY_SAMPLE_MS = 100;

export interface MemorySample {
  rss: number;
  /**
   * V8's heap and the buffers the broker holds, plus what the process used beside them at start (code, Node, libzmq's
   * threads). Unlike `rss`, it does not count libzmq's buffers of unread messages nor what the allocator keeps of freed
   * memory for reuse. The heap counts as V8 has it from the system (heapTotal), not just its live objects: under a
   * flood V8 grows its young generation by some 20 MiB, resident memory as real as any.
   */
  live: number;
}

export class MemorySampler {
  private readonly collect = garbageCollector();
  /** What the process used beside V8's heap and buffers when it started. */
  private readonly base: number;

  constructor(private readonly budget: number) {
    const start = process.memoryUsage();
    this.base = Math.max(0, start.rss - start.heapTotal - start.external);
  }

  sample(): MemorySample {
    let usage = process.memoryUsage();
    // Near a line, much of what grew is garbage — refused requests' payloads V8 has not collected yet: collect first.
    const near = usage.rss >= MEMORY.shedAt * this.budget || this.liveOf(usage) >= MEMORY.plannedAt * this.budget;
    if (near && this.collect !== undefined) {
      this.collect();
      usage = process.memoryUsage();
    }
    return { rss: usage.rss, live: this.liveOf(usage) };
  }

  private liveOf(usage: NodeJS.MemoryUsage): number {
    return this.base + usage.heapTotal + usage.external;
  }
}

/** V8's collector as a function (`--expose-gc`, set at run time), or undefined where the flag cannot be set. */
function garbageCollector(): (() => void) | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    return typeof gc === "function" ? () => void gc() : undefined;
  } catch {
    return undefined;
  }
}
