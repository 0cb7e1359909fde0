/**
 * `ztb broker --metrics HOST:PORT`: the broker's state in Prometheus text format at http://HOST:PORT/metrics, read
 * from the core at each scrape (a SNAPSHOT's counters, workers and services, and the core's metrics), so nothing is
 * counted twice and a scrape costs nothing between scrapes. Loaded only with --metrics (prom-client).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, type Metric, Registry } from "prom-client";
import type { BrokerCoreApi } from "../core/api";
import { ATTEMPT_BUCKETS_MS } from "../core/metrics";
import type { ConnectionCounts, Snapshot } from "../protocol/messages";

/** What a scrape reads: the core's snapshot and metrics, or undefined before the broker has started. */
export type MetricsSource = () => { core: BrokerCoreApi; now: number; connections?: ConnectionCounts } | undefined;

function counter(registry: Registry, name: string, help: string, labelNames: string[], read: (c: Counter<string>) => void): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read(this);
    },
  });
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: (g: Gauge<string>) => void): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read(this);
    },
  });
}

/** The registry of every ztb metric, each reading the snapshot taken once per scrape. */
export function brokerRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  let snapshot: Snapshot | undefined;
  let core: BrokerCoreApi | undefined;
  let connections: ConnectionCounts | undefined;
  const take = (): void => {
    const current = source();
    core = current?.core;
    connections = current?.connections;
    snapshot = current === undefined ? undefined : current.core.snapshot({ tasks: { limit: 1 } }, current.now);
  };
  // The first metric collected takes the snapshot for the whole scrape (prom-client collects in registration order).
  gauge(registry, "ztb_up", "1 while the broker serves, 0 while it is stopping.", [], (g) => {
    take();
    g.set(snapshot?.broker.state === "running" ? 1 : 0);
  });
  const c = (read: (s: Snapshot) => number) => (metric: Counter<string> | Gauge<string>): void => {
    if (snapshot !== undefined) metric.inc(read(snapshot));
  };
  counter(registry, "ztb_requests_total", "Tasks accepted (client requests and admin RETRYs).", [], c((s) => s.counters.requests));
  counter(registry, "ztb_retries_total", "Attempts re-queued (timeout, retryable FAIL, worker lost, recovery).", [], c((s) => s.counters.retried));
  counter(registry, "ztb_rejected_total", "Requests refused without a task (queue-full, unknown-service, shutdown).", [], c((s) => s.counters.rejected));
  counter(registry, "ztb_deduplicated_total", "Requests answered by an existing task with the same idempotency key.", [], c((s) => s.counters.deduplicated ?? 0));
  counter(registry, "ztb_late_total", "Answers, FAILs and EXTENDs for an attempt that had already ended.", [], c((s) => s.counters.late));
  counter(registry, "ztb_replies_total", "Replies sent to clients, by status and failure reason.", ["status", "reason"], (m) => {
    if (snapshot === undefined || core === undefined) return;
    const failed = core.metrics().failedReplies;
    let failures = 0;
    for (const [reason, count] of Object.entries(failed)) {
      failures += count;
      if (count > 0) m.inc({ status: "failed", reason }, count);
    }
    m.inc({ status: "succeeded", reason: "" }, Math.max(0, snapshot.counters.replies - failures));
  });
  counter(registry, "ztb_malformed_total", "Messages the codec rejected, by endpoint.", ["endpoint"], (m) => {
    if (snapshot === undefined) return;
    for (const [endpoint, count] of Object.entries(snapshot.counters.malformed)) m.inc({ endpoint }, count);
  });
  gauge(registry, "ztb_tasks", "Tasks now queued or running.", ["state"], (g) => {
    if (snapshot === undefined) return;
    g.set({ state: "queued" }, snapshot.counters.queued);
    g.set({ state: "running" }, snapshot.counters.running);
  });
  gauge(registry, "ztb_service_queued", "Tasks waiting, per service.", ["service"], (g) => {
    for (const svc of snapshot?.services ?? []) g.set({ service: svc.name }, svc.queued);
  });
  gauge(registry, "ztb_service_running", "Tasks running, per service.", ["service"], (g) => {
    const running = new Map<string, number>();
    for (const svc of snapshot?.services ?? []) running.set(svc.name, 0);
    for (const worker of snapshot?.workers ?? []) {
      // A worker's held tasks belong to its services; a worker of one service is the common case.
      const service = worker.services.length === 1 ? worker.services[0] : undefined;
      if (service !== undefined) running.set(service, (running.get(service) ?? 0) + worker.held);
    }
    for (const [service, count] of running) g.set({ service }, count);
  });
  gauge(registry, "ztb_workers", "Registered workers, by state.", ["state"], (g) => {
    const states = new Map<string, number>([["idle", 0], ["busy", 0], ["draining", 0], ["quarantined", 0]]);
    for (const w of snapshot?.workers ?? []) {
      const state = w.quarantinedUntil === undefined ? w.state : "quarantined";
      states.set(state, (states.get(state) ?? 0) + 1);
    }
    for (const [state, count] of states) g.set({ state }, count);
  });
  gauge(registry, "ztb_memory_bytes", "Resident memory and the memory the broker holds at the last sample, and the --max-memory budget.", ["kind"], (g) => {
    const memory = snapshot?.broker.memory;
    if (memory === undefined) return;
    g.set({ kind: "resident" }, memory.rss);
    if (memory.live !== undefined) g.set({ kind: "held" }, memory.live);
    g.set({ kind: "budget" }, memory.budget);
  });
  // Labelled, so that a broker without --max-memory reports no sample at all (an unlabelled gauge always has one).
  gauge(registry, "ztb_load_shedding", "1 while new requests are refused with queue-full, by cause (memory: the --max-memory budget), else 0.", ["cause"], (g) => {
    const memory = snapshot?.broker.memory;
    if (memory !== undefined) g.set({ cause: "memory" }, memory.shedding ? 1 : 0);
  });
  gauge(registry, "ztb_connections", "Connections per endpoint: connected peers, and connections still in the ZeroMQ handshake.", ["endpoint", "state"], (g) => {
    for (const [endpoint, count] of Object.entries(connections ?? {})) {
      g.set({ endpoint, state: "peers" }, count.peers);
      g.set({ endpoint, state: "handshakes" }, count.handshakes);
    }
  });
  registry.registerMetric(attemptHistogram(() => core) as unknown as Metric<string>);
  return registry;
}

/** The core keeps the attempt-duration buckets itself; this presents them as a Prometheus histogram (in seconds). */
function attemptHistogram(core: () => BrokerCoreApi | undefined): { name: string; help: string; type: string; get(): unknown; reset(): void } {
  const name = "ztb_attempt_duration_seconds";
  return {
    name,
    help: "How long attempts took, from dispatch to their end (answer, FAIL, timeout, worker lost, cancel).",
    type: "histogram",
    reset: () => undefined,
    get() {
      const m = core()?.metrics();
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      let cumulative = 0;
      ATTEMPT_BUCKETS_MS.forEach((bound, i) => {
        cumulative += m?.attemptBuckets[i] ?? 0;
        values.push({ metricName: `${name}_bucket`, labels: { le: bound / 1000 }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf" }, value: m?.attemptCount ?? 0 });
      values.push({ metricName: `${name}_sum`, labels: {}, value: (m?.attemptSumMs ?? 0) / 1000 });
      values.push({ metricName: `${name}_count`, labels: {}, value: m?.attemptCount ?? 0 });
      return { name, help: this.help, type: "histogram", values, aggregator: "sum" };
    },
  };
}

/** Serves the registry at /metrics on `host:port`; resolves with the bound address once listening. */
export function serveMetrics(registry: Registry, host: string, port: number): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    if (req.url !== "/metrics" && req.url !== "/") {
      res.writeHead(404).end("not found: the metrics are at /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const bound = server.address() as AddressInfo;
      resolve({ server, address: `${bound.address}:${bound.port}` });
    });
  });
}
