/**
 * `ztb broker --cluster …` (protocol/spec.md §Cluster mode): the options that put a broker in a cluster, parsed into
 * what the cluster adapter needs. Problems are one-line `UsageError`s, like every other broker option.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { ClusterAuth, ClusterTls } from "../cluster/connect-options";

export interface ClusterCommandOptions {
  servers: string[];
  /** --cluster-name: names the stream, consumers, bucket and subjects; every broker of a cluster uses the same. */
  name: string;
  /** --broker-id: this broker's reply address; unique per running broker. */
  brokerId: string;
  /** --replicas: copies JetStream keeps of every task and kept result. */
  replicas: number;
  /** --lease, ms: how long a dead broker's tasks stay with it before they come back (JetStream AckWait). */
  lease: number;
  auth: ClusterAuth | undefined;
  tls: ClusterTls | undefined;
}

export const CLUSTER_OPTIONS = {
  cluster: { type: "string" },
  "cluster-name": { type: "string" },
  "broker-id": { type: "string" },
  replicas: { type: "string" },
  lease: { type: "string" },
  "nats-creds": { type: "string" },
  "nats-user": { type: "string" },
  "nats-password": { type: "string" },
  "nats-token": { type: "string" },
  "nats-tls-ca": { type: "string" },
  "nats-tls-cert": { type: "string" },
  "nats-tls-key": { type: "string" },
} as const;

export const DEFAULT_CLUSTER_NAME = "ztb";
export const DEFAULT_LEASE_MS = 30_000;

type Values = { [K in keyof typeof CLUSTER_OPTIONS]?: string };

/**
 * The cluster options, or null without --cluster (then any other cluster option is an error). `fail` turns a problem
 * into the caller's UsageError; `duration` parses `30s`-style values as the other options do.
 */
export function parseClusterOptions(values: Values, fail: (message: string) => Error, duration: (option: string, text: string) => number): ClusterCommandOptions | null {
  if (values.cluster === undefined) {
    const stray = Object.keys(CLUSTER_OPTIONS).find((name) => name !== "cluster" && values[name as keyof Values] !== undefined);
    if (stray !== undefined) throw fail(`--${stray} needs --cluster nats://HOST:PORT`);
    return null;
  }
  const servers = values.cluster.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (servers.length === 0) throw fail("--cluster needs nats://HOST:PORT[,nats://HOST:PORT...]");
  for (const server of servers) {
    if (!/^(nats|tls):\/\/[^\s/]+:\d{1,5}$/.test(server)) throw fail(`--cluster: ${JSON.stringify(server)} is not nats://HOST:PORT`);
  }
  const name = values["cluster-name"] ?? DEFAULT_CLUSTER_NAME;
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw fail("--cluster-name must be 1 to 32 of A-Z a-z 0-9 _ -");
  const brokerId = values["broker-id"] ?? defaultBrokerId();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(brokerId)) throw fail("--broker-id must be 1 to 64 of A-Z a-z 0-9 _ -");
  const replicasText = values.replicas ?? "1";
  if (!/^[1-5]$/.test(replicasText)) throw fail("--replicas must be 1 to 5 (3 survives the loss of one NATS node of three)");
  const lease = values.lease === undefined ? DEFAULT_LEASE_MS : duration("--lease", values.lease);
  if (lease < 1000 || lease > 3_600_000) throw fail("--lease must be 1s to 1h");
  return { servers, name, brokerId, replicas: Number(replicasText), lease, auth: auth(values, fail), tls: tls(values) };
}

function auth(values: Values, fail: (message: string) => Error): ClusterAuth | undefined {
  const given = [values["nats-creds"] !== undefined, values["nats-user"] !== undefined || values["nats-password"] !== undefined, values["nats-token"] !== undefined];
  if (given.filter(Boolean).length > 1) throw fail("choose one of --nats-creds, --nats-user/--nats-password, --nats-token");
  if (values["nats-creds"] !== undefined) return { kind: "creds", file: values["nats-creds"] };
  if (values["nats-token"] !== undefined) return { kind: "token", token: values["nats-token"] };
  if (values["nats-user"] !== undefined || values["nats-password"] !== undefined) {
    if (values["nats-user"] === undefined || values["nats-password"] === undefined) throw fail("--nats-user and --nats-password go together");
    return { kind: "user", user: values["nats-user"], password: values["nats-password"] };
  }
  return undefined;
}

function tls(values: Values): ClusterTls | undefined {
  const ca = values["nats-tls-ca"];
  const cert = values["nats-tls-cert"];
  const key = values["nats-tls-key"];
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  return { ...(ca === undefined ? {} : { caFile: ca }), ...(cert === undefined ? {} : { certFile: cert }), ...(key === undefined ? {} : { keyFile: key }) };
}

/** `<host>-<random>`: readable in NATS monitoring, unique across restarts (a restarted broker is a new address). */
function defaultBrokerId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 40) || "broker";
  return `${host}-${randomBytes(3).toString("hex")}`;
}
