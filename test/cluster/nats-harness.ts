/**
 * Real nats-server processes with JetStream for the cluster tests: one node, or N nodes routed into one cluster, on
 * free loopback ports, each with its own store directory under one temp directory that `stop()` removes.
 *
 * Each node gets a generated config file rather than command-line flags, because the monitoring port, the cluster
 * block and the store directory are all needed and the file states them in one place (and is left next to the node's
 * log for a reader when a test fails). Readiness is read from the monitoring endpoint (`/jsz`: a meta leader known to
 * every node, `/healthz?js-server-only=true`: JetStream current at the server level), never from a sleep.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync, mkdirSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../broker/bench/free-ports";
import { natsServerPath } from "./nats-binary";

/** Bounded waits of the harness (ms): generous, because these machines are shared and noisy. */
const START_TIMEOUT = 20_000;
const POLL_INTERVAL = 50;

export interface NatsAuth {
  user: string;
  password: string;
}

export interface NatsClusterOptions {
  /** 1 for a single server (no cluster block), 3 for an R3-capable cluster. */
  nodes: number;
  /** Require a user and password from clients. */
  auth?: NatsAuth;
  /** false: a server without JetStream (for the adapter's refusal); default true. */
  jetstream?: boolean;
}

interface NodePorts {
  client: number;
  cluster: number;
  http: number;
}

/**
 * Every server process the harness started and has not seen exit: killed when this process exits however it exits
 * (a test that throws before `stop()`, mocha's own exit), so no server outlives its test run.
 */
const live = new Set<ChildProcess>();
/** Temp directories of clusters not stopped yet, removed at exit too. */
const roots = new Set<string>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
  for (const root of roots) {
    try {
      rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A server killed a moment ago may still be writing: at exit, a leftover temp dir is all that can go wrong.
    }
  }
});

/** One nats-server of the harness; `url` stays valid across `kill()`/`restart()` (same ports, same store). */
export class NatsNode {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly ports: NodePorts,
    readonly dir: string,
    private readonly configFile: string,
    private readonly binary: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.ports.client}`;
  }

  /** The running process's id (the bench reads its CPU time from /proc), or undefined when it is not running. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process; readiness is the cluster's business (`NatsCluster.waitReady`). */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const log = openSync(join(this.dir, "server.log"), "a");
    const child = spawn(this.binary, ["-c", this.configFile], { stdio: ["ignore", log, log] });
    closeSync(log);
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        live.delete(child);
        resolve();
      }),
    );
  }

  /** SIGKILL, as a crash: no shutdown, no flush. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.running) this.child?.kill("SIGKILL");
    await this.exited;
  }

  /** The server's log so far (for a failing test's message). */
  logTail(lines = 20): string {
    try {
      return readFileSync(join(this.dir, "server.log"), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** GET a monitoring path as JSON, or undefined while the server is not answering. */
  monitor(path: string): Promise<unknown> {
    return new Promise((resolve) => {
      const request = get({ host: "127.0.0.1", port: this.ports.http, path, timeout: 2000 }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => {
          try {
            resolve(JSON.parse(body) as unknown);
          } catch {
            resolve(undefined);
          }
        });
      });
      request.on("timeout", () => request.destroy());
      request.on("error", () => resolve(undefined));
    });
  }
}

/** What `/jsz` says about the meta group (only the members the harness reads). */
interface JszMeta {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns true; throws `describe()` after `timeout` ms. */
export async function waitFor(probe: () => Promise<boolean> | boolean, timeout: number, describe: () => string): Promise<void> {
  const until = Date.now() + timeout;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeout} ms: ${describe()}`);
    await sleep(POLL_INTERVAL);
  }
}

function configText(node: { name: string; ports: NodePorts; dir: string }, all: NodePorts[], options: NatsClusterOptions): string {
  const lines = [
    `server_name: ${node.name}`,
    `listen: 127.0.0.1:${node.ports.client}`,
    `http: 127.0.0.1:${node.ports.http}`,
  ];
  if (options.jetstream !== false) {
    // The file store with the server's default fsync policy: 2.9 has no setting for it (DESIGN.md §Durability).
    lines.push(`jetstream { store_dir: ${JSON.stringify(join(node.dir, "store"))} }`);
  }
  const auth = options.auth;
  if (auth !== undefined) {
    lines.push(`authorization { user: ${JSON.stringify(auth.user)}, password: ${JSON.stringify(auth.password)} }`);
  }
  if (all.length > 1) {
    const routes = all.map((ports) => `nats-route://127.0.0.1:${ports.cluster}`).join(", ");
    lines.push(`cluster { name: ztb-test, listen: 127.0.0.1:${node.ports.cluster}, routes: [${routes}] }`);
  }
  return lines.join("\n") + "\n";
}

/** N nats-server nodes (a cluster when N > 1) with JetStream, started and ready. */
export class NatsCluster {
  private constructor(
    readonly nodes: NatsNode[],
    private readonly root: string,
  ) {}

  static async start(options: NatsClusterOptions): Promise<NatsCluster> {
    const binary = natsServerPath();
    const root = mkdtempSync(join(tmpdir(), "ztb-nats-"));
    roots.add(root);
    const flat = await freePorts(options.nodes * 3);
    const ports: NodePorts[] = [];
    for (let i = 0; i < options.nodes; i++) {
      ports.push({ client: flat[3 * i] ?? 0, cluster: flat[3 * i + 1] ?? 0, http: flat[3 * i + 2] ?? 0 });
    }
    const nodes = ports.map((nodePorts, i) => {
      const name = `n${i + 1}`;
      const dir = join(root, name);
      mkdirSync(dir);
      const configFile = join(dir, "server.conf");
      writeFileSync(configFile, configText({ name, ports: nodePorts, dir }, ports, options));
      return new NatsNode(name, nodePorts, dir, configFile, binary);
    });
    const cluster = new NatsCluster(nodes, root);
    try {
      for (const node of nodes) node.start();
      await cluster.waitReady();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Every node's client URL, for a client that may fail over. */
  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  node(index: number): NatsNode {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`no node ${index} (${this.nodes.length} nodes)`);
    return node;
  }

  /**
   * Waits until every running node answers `/healthz?js-server-only=true` ok and, in a cluster, knows the same meta leader among as many
   * peers as there are nodes: from then on JetStream API calls (stream create with R3) succeed.
   */
  async waitReady(timeout = START_TIMEOUT): Promise<void> {
    const running = this.nodes.filter((node) => node.running);
    let last = "";
    await waitFor(
      async () => {
        const leaders = new Set<string>();
        for (const node of running) {
          if (!node.running) throw new Error(`${node.name} exited during start:\n${node.logTail()}`);
          // Server-level health (JetStream on, meta group current); a stream or consumer replica catching up after a
          // restart is the test's business: it waits for the assets it uses.
          const health = (await node.monitor("/healthz?js-server-only=true")) as { status?: string } | undefined;
          if (health?.status !== "ok") {
            last = `${node.name} /healthz: ${JSON.stringify(health)}`;
            return false;
          }
          if (this.nodes.length === 1) continue;
          const jsz = (await node.monitor("/jsz")) as JszMeta | undefined;
          const meta = jsz?.meta_cluster;
          if (meta?.leader === undefined || meta.leader === "" || meta.cluster_size !== this.nodes.length) {
            last = `${node.name} meta group: ${JSON.stringify(meta)}`;
            return false;
          }
          leaders.add(meta.leader);
        }
        last = `leaders seen: ${[...leaders].join(", ")}`;
        return leaders.size <= 1;
      },
      timeout,
      () => `nats-server not ready (${last})`,
    );
  }

  /** SIGKILL node `index` (a crash: no flush, no goodbye to its peers). */
  async kill(index: number): Promise<void> {
    await this.node(index).kill();
  }

  /** Starts node `index` again on its ports and store, then waits for the cluster to be ready. */
  async restart(index: number): Promise<void> {
    this.node(index).start();
    await this.waitReady();
  }

  /** Kills every node and removes the temp directory (stores, configs, logs). */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    rmSync(this.root, { recursive: true, force: true });
    roots.delete(this.root);
  }
}
