/**
 * Load for the UI journeys, from outside VS Code as an operator would make it: `ztb worker --delay` processes and a
 * `ztb client -n N --count M --enveloped` run against the broker the extension started on the workspace's endpoints.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const CLI = path.join(__dirname, "..", "..", "..", "broker", "src", "cli", "main.js");

export interface Load {
  /** Resolves with the client's exit code when all its requests were answered (or it gave up). */
  readonly done: Promise<number>;
  readonly finished: boolean;
  /** Ends the workers (and the client, if still running). */
  stop(): void;
}

export function startLoad(
  workspace: string,
  options: { workers: number; delayMs: number; clients: number; count: number; failRate?: number },
): Load {
  const settings = JSON.parse(fs.readFileSync(path.join(workspace, ".vscode", "settings.json"), "utf8")) as Record<string, string>;
  const endpoint = (name: string): string => settings[`ztb.endpoints.${name}`] ?? "";
  const children: ChildProcess[] = [];
  const run = (args: string[]): ChildProcess => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: "ignore" });
    children.push(child);
    return child;
  };
  for (let i = 1; i <= options.workers; i++) {
    const fail = options.failRate === undefined ? [] : ["--fail-rate", String(options.failRate)];
    run(["worker", endpoint("workers"), endpoint("answers"), "--delay", `${options.delayMs}ms`, "--name", `load-${i}`, "--quiet", ...fail]);
  }
  const client = run(["client", "-n", String(options.clients), "--count", String(options.count), "--enveloped", "--quiet",
    endpoint("clients")]);
  let finished = false;
  const done = new Promise<number>((resolve) => client.on("exit", (code) => {
    finished = true;
    resolve(code ?? 1);
  }));
  return {
    done,
    get finished() {
      return finished;
    },
    stop: () => {
      for (const child of children) if (child.exitCode === null) child.kill();
    },
  };
}
