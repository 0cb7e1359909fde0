/**
 * The command under test as a child process. Its endpoints reach it two ways, so any implementation can be driven:
 * `{clients}`, `{workers}` and `{answers}` in its arguments are replaced by the endpoints, and the environment has
 * ZTB_CLIENTS_ENDPOINT, ZTB_WORKERS_ENDPOINT and ZTB_ANSWERS_ENDPOINT.
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface Endpoints {
  clients: string;
  workers: string;
  answers: string;
}

export interface Ended {
  exitCode: number | null;
  signal: string | null;
}

const TAIL_LINES = 12;

/** Every process still running, so an interrupted checker does not leave them behind (they run detached). */
const live = new Set<PeerProcess>();

/** SIGKILLs every command under test still running (for the checker's own SIGINT/SIGTERM). */
export function killAll(): void {
  for (const peer of live) peer.signal("SIGKILL");
}

export function substitute(command: readonly string[], endpoints: Endpoints): string[] {
  return command.map((arg) =>
    arg.replaceAll("{clients}", endpoints.clients).replaceAll("{workers}", endpoints.workers).replaceAll("{answers}", endpoints.answers),
  );
}

export class PeerProcess {
  readonly ended: Promise<Ended>;
  private result: Ended | undefined;
  private readonly tail: string[] = [];
  private readonly child: ChildProcess;

  constructor(command: readonly string[], endpoints: Endpoints) {
    const [file, ...args] = substitute(command, endpoints);
    if (file === undefined) throw new Error("no command to run");
    this.child = spawn(file, args, {
      // Its own process group, so stopping it also stops what a wrapper script started.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ZTB_CLIENTS_ENDPOINT: endpoints.clients,
        ZTB_WORKERS_ENDPOINT: endpoints.workers,
        ZTB_ANSWERS_ENDPOINT: endpoints.answers,
      },
    });
    live.add(this);
    this.ended = new Promise((resolve) => {
      this.child.on("error", (error) => {
        this.remember(`cannot run ${file}: ${error.message}`);
        this.finish({ exitCode: null, signal: null }, resolve);
      });
      this.child.on("exit", (exitCode, signal) => this.finish({ exitCode, signal }, resolve));
    });
    // Both streams must be read or a chatty peer blocks on a full pipe; the tail explains a failure.
    this.child.stdout?.on("data", (chunk: Buffer) => this.remember(chunk.toString()));
    this.child.stderr?.on("data", (chunk: Buffer) => this.remember(chunk.toString()));
  }

  get running(): boolean {
    return this.result === undefined;
  }

  get exit(): Ended | undefined {
    return this.result;
  }

  /** The last lines the command printed (stdout and stderr interleaved). */
  lines(): string[] {
    return [...this.tail];
  }

  /** Signals the process group. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(graceMs = 2000): Promise<Ended> {
    if (this.result !== undefined) return this.result;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return await this.ended;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with the exit, or undefined when it is still running after `ms`. */
  async exitWithin(ms: number): Promise<Ended | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
    try {
      return await Promise.race([this.ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  describeExit(): string {
    const exit = this.result;
    if (exit === undefined) return "still running";
    return exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${String(exit.exitCode)}`;
  }

  private finish(ended: Ended, resolve: (ended: Ended) => void): void {
    if (this.result !== undefined) return;
    live.delete(this);
    this.result = ended;
    resolve(ended);
  }

  private remember(text: string): void {
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      this.tail.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    }
  }
}
