/**
 * The Python implementation of ZTB/1 (protocol/implementations/python) as child processes: `ztb_worker.py` and
 * `ztb_client.py`, run with the system interpreter, which is where Debian's python3-zmq installs pyzmq.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";

/** Not `python3` from PATH: another build (pyenv) first on PATH may lack pyzmq (the Python README's caveat). */
export const PYTHON = "/usr/bin/python3";
/** Compiled tests live in out/test/integration; the scripts are not compiled, so they are read from the source tree. */
const SCRIPTS = join(resolve(__dirname, "../../.."), "protocol/implementations/python");
export const WORKER_SCRIPT = join(SCRIPTS, "ztb_worker.py");
export const CLIENT_SCRIPT = join(SCRIPTS, "ztb_client.py");

/**
 * Throws unless `/usr/bin/python3` can import zmq. A missing dependency must fail the suite, never skip it: a skipped
 * interoperability test reads as a pass.
 */
export function requirePyzmq(): void {
  const probe = spawnSync(PYTHON, ["-c", "import zmq"], { encoding: "utf8", timeout: 10_000 });
  if (probe.error === undefined && probe.status === 0) return;
  const why = probe.error !== undefined ? probe.error.message : probe.stderr.trim().split("\n").pop();
  throw new Error(
    `${PYTHON} cannot import zmq (${why ?? "unknown error"}): the Python interoperability tests need pyzmq; ` +
      "install it with `apt-get install python3-zmq`",
  );
}

export interface PythonRun {
  readonly child: ChildProcess;
  /** The exit code, or null when a signal ended the process. */
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/** Every Python process a test started, so that `after`/`afterEach` can kill them whatever the test did. */
export class PythonProcesses {
  private readonly runs = new Set<PythonRun>();

  /** A worker: `ztb_worker.py ARGS` with extra environment (e.g. ZTB_WORKERS_ENDPOINT). */
  worker(args: string[], env: NodeJS.ProcessEnv = {}): PythonRun {
    return this.start(WORKER_SCRIPT, args, env);
  }

  /** One request with the CLI client: `ztb_client.py ARGS`; await `exited` for its exit status. */
  client(args: string[], env: NodeJS.ProcessEnv = {}): PythonRun {
    return this.start(CLIENT_SCRIPT, args, env);
  }

  /** SIGKILLs every process still running and waits for each to be gone. */
  async killAll(): Promise<void> {
    const running = [...this.runs].filter((run) => run.child.exitCode === null && run.child.signalCode === null);
    for (const run of running) run.child.kill("SIGKILL");
    await Promise.all([...this.runs].map((run) => run.exited));
    this.runs.clear();
  }

  private start(script: string, args: string[], env: NodeJS.ProcessEnv): PythonRun {
    const child = spawn(PYTHON, [script, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PYTHONUNBUFFERED: "1", ...env },
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((done) => {
      child.on("error", (error) => {
        err += `spawn failed: ${error.message}\n`;
        done(null);
      });
      child.on("close", (code) => done(code));
    });
    const run: PythonRun = { child, exited, stdout: () => out, stderr: () => err };
    this.runs.add(run);
    return run;
  }
}
