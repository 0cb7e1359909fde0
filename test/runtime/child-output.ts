/** What a finished child process printed: the one place the CLI tests collect a child's output. */
import type { ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Collects stdout and stderr (spawned with both piped) until the child closes; rejects if it cannot start. */
export function collectOutput(child: ChildProcessByStdio<Writable | null, Readable, Readable>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
