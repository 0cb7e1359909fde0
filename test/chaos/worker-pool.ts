/** The chaos workers as child processes: started, SIGKILLed and restarted by slot, unexpected exits recorded. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Misbehaviour } from "./behaviour";
import type { ChaosWorkerConfig } from "./chaos-worker";

const SCRIPT = join(__dirname, "chaos-worker.js");
const READY_TIMEOUT_MS = 10_000;

export interface WorkerSpec {
  kind: ChaosWorkerConfig["kind"];
  capacity: number;
}

export interface PoolOptions {
  workers: string;
  answers: string;
  /** The broker's attempt timeout in ms. */
  timeout: number;
  misbehaviour: Misbehaviour;
  seed: number;
  /** The broker is killed and restarted during the run (chaos-worker.ts `brokerRestarts`). */
  brokerRestarts?: boolean;
}

interface Slot {
  readonly index: number;
  readonly spec: WorkerSpec;
  incarnation: number;
  name: string;
  child: ChildProcess | undefined;
}

export class WorkerPool {
  /** Exits we did not cause (a worker that died on its own, or saw DISCONNECT): each one is a finding. */
  readonly unexpectedExits: string[] = [];
  readonly slots: Slot[];
  kills = 0;
  private stopping = false;
  private readonly killed = new WeakSet<ChildProcess>();

  constructor(
    private readonly options: PoolOptions,
    specs: readonly WorkerSpec[],
  ) {
    this.slots = specs.map((spec, index) => ({ index, spec, incarnation: 0, name: "", child: undefined }));
  }

  /** Starts every slot and resolves when each has reported "ready". */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.spawn(slot)));
  }

  /** SIGKILLs the slot's process and starts its next incarnation at once; returns the killed worker's name. */
  kill(index: number): { name: string; kind: WorkerSpec["kind"]; restarted: Promise<void> } {
    const slot = this.slots[index % this.slots.length];
    if (slot === undefined) throw new Error("empty worker pool");
    const name = slot.name;
    if (slot.child !== undefined) {
      this.killed.add(slot.child);
      slot.child.kill("SIGKILL");
    }
    this.kills++;
    return { name, kind: slot.spec.kind, restarted: this.spawn(slot) };
  }

  /**
   * Restarts every legacy worker (not counted as a kill): after a broker restart a prototype REQ worker waits forever
   * for the answer to a request for work that died with the old broker (its protocol has no heartbeat and REQ allows
   * no second request), so an operator restarts legacy workers with the broker.
   */
  restartLegacy(): Promise<void>[] {
    return this.slots
      .filter((slot) => slot.spec.kind === "legacy")
      .map((slot) => {
        if (slot.child !== undefined) {
          this.killed.add(slot.child);
          slot.child.kill("SIGKILL");
        }
        return this.spawn(slot);
      });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map((slot) => {
        const child = slot.child;
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return undefined;
        const gone = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        return gone;
      }),
    );
  }

  private spawn(slot: Slot): Promise<void> {
    slot.incarnation++;
    slot.name = `${slot.spec.kind}-${slot.index}.${slot.incarnation}`;
    const config: ChaosWorkerConfig = {
      kind: slot.spec.kind,
      workers: this.options.workers,
      answers: this.options.answers,
      name: slot.name,
      capacity: slot.spec.capacity,
      seed: this.options.seed * 7919 + slot.index * 104_729 + slot.incarnation,
      timeout: this.options.timeout,
      misbehaviour: this.options.misbehaviour,
      ...(this.options.brokerRestarts === true ? { brokerRestarts: true } : {}),
    };
    const child = spawn(process.execPath, [SCRIPT, JSON.stringify(config)], { stdio: ["ignore", "pipe", "pipe"] });
    slot.child = child;
    const name = slot.name;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.on("exit", (code, signal) => {
      if (this.killed.has(child) || (this.stopping && signal === "SIGKILL")) return;
      this.unexpectedExits.push(`${name} exited (${code ?? signal}): ${stderr.trim()}`);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} not ready after ${READY_TIMEOUT_MS} ms: ${stderr}`)), READY_TIMEOUT_MS);
      const lines = createInterface({ input: child.stdout ?? process.stdin });
      lines.once("line", () => {
        clearTimeout(timer);
        resolve();
      });
      child.once("exit", () => {
        clearTimeout(timer);
        resolve(); // a kill before "ready" is part of the chaos; an unexpected exit is recorded above
      });
    });
  }
}
