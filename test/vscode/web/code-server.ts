/**
 * code-server as a child process: install (cached), start on a free loopback port, stop with everything it started.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const INSTALL_SCRIPT = path.join(__dirname, "..", "..", "..", "..", "test", "vscode", "install-code-server.sh");

/** Runs install-code-server.sh (a stamp check when already installed) and returns the cache directory. */
export function ensureCodeServer(): string {
  const result = spawnSync("bash", [INSTALL_SCRIPT], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (result.status !== 0) throw new Error(`install-code-server.sh failed (exit ${String(result.status)})`);
  const cache = result.stdout.trim().split("\n").pop();
  if (!cache || !fs.existsSync(cache)) throw new Error(`install-code-server.sh printed no cache directory`);
  return cache;
}

/** The suite's helper, one home for both (the web runner and the suite inside VS Code). */
export { freePort } from "../suite/free-port";

function entry(cache: string): string {
  return path.join(cache, "node_modules", "code-server", "out", "node", "entry.js");
}

export interface CodeServerDirs {
  userDataDir: string;
  extensionsDir: string;
}

/** `code-server --install-extension FILE` into the given extensions dir; returns its output. */
export function installExtension(cache: string, dirs: CodeServerDirs, vsix: string): string {
  const result = spawnSync(process.execPath, [entry(cache), "--user-data-dir", dirs.userDataDir,
    "--extensions-dir", dirs.extensionsDir, "--install-extension", vsix], { encoding: "utf8", timeout: 120_000 });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`--install-extension failed (exit ${String(result.status)}):\n${output}`);
  return output;
}

export function listExtensions(cache: string, dirs: CodeServerDirs): string[] {
  const result = spawnSync(process.execPath, [entry(cache), "--user-data-dir", dirs.userDataDir,
    "--extensions-dir", dirs.extensionsDir, "--list-extensions", "--show-versions"], { encoding: "utf8", timeout: 60_000 });
  return result.stdout.split("\n").map((line) => line.trim()).filter((line) => line !== "");
}

export class CodeServer {
  private constructor(private readonly child: ChildProcess, readonly port: number, readonly logFile: string) {}

  /** Starts code-server in its own process group (so `stop()` also ends the extension host and what it spawned). */
  static async start(cache: string, options: CodeServerDirs & {
    port: number; folder: string; logFile: string; env: NodeJS.ProcessEnv;
  }): Promise<CodeServer> {
    const log = fs.openSync(options.logFile, "a");
    const child = spawn(process.execPath, [entry(cache),
      "--auth", "none", "--bind-addr", `127.0.0.1:${options.port}`, "--disable-telemetry", "--disable-update-check",
      "--disable-workspace-trust", "--user-data-dir", options.userDataDir, "--extensions-dir", options.extensionsDir,
      options.folder], { detached: true, stdio: ["ignore", log, log], env: options.env });
    fs.closeSync(log);
    const server = new CodeServer(child, options.port, options.logFile);
    await server.waitHealthy(60_000);
    return server;
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`code-server exited (${this.child.exitCode}); see ${this.logFile}`);
      try {
        const response = await fetch(`http://127.0.0.1:${this.port}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`code-server did not answer /healthz within ${timeoutMs} ms; see ${this.logFile}`);
  }

  /** SIGTERM to the whole group, SIGKILL after a grace period: brokers and workers the extension started go too. */
  async stop(graceMs = 5_000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    const signal = (sig: NodeJS.Signals | 0): boolean => {
      try {
        process.kill(-pid, sig);
        return true;
      } catch {
        return false; // group already gone
      }
    };
    if (!signal("SIGTERM")) return;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if (!signal(0)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    signal("SIGKILL");
  }
}
