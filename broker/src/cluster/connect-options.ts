/**
 * What `ztb broker --cluster` needs to reach a real NATS deployment, and its translation into the client library's
 * options. Kept apart from the connection itself so the CLI can validate options (and tests can check the
 * translation) without a server.
 */
import { readFileSync } from "node:fs";
import { credsAuthenticator, type NodeConnectionOptions } from "@nats-io/transport-node";
import { ClusterConfigError } from "./errors";

/** How the broker proves who it is to NATS; one of the server's authentication schemes. */
export type ClusterAuth =
  /** A `.creds` file (JWT + NKey seed) as issued by `nsc` for operator/account deployments. */
  | { kind: "creds"; file: string }
  | { kind: "user"; user: string; password: string }
  | { kind: "token"; token: string };

/** TLS to the NATS servers: `caFile` to verify them, `certFile` + `keyFile` when they verify clients (mutual TLS). */
export interface ClusterTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface ClusterConnectOptions {
  /** `nats://host:port` (or `tls://`) of one or more servers; the client also learns the others from the cluster. */
  servers: readonly string[];
  /** Connection name shown by the server's monitoring (e.g. `ztb-broker <id>`). */
  name: string;
  auth?: ClusterAuth;
  tls?: ClusterTls;
  /** How long one connect attempt may take, ms (default 5000). */
  connectTimeout?: number;
}

export const DEFAULT_CONNECT_TIMEOUT = 5000;

function readable(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ClusterConfigError(`cannot read the NATS ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
}

/** The library's connection options; throws ClusterConfigError for options that cannot work. */
export function natsConnectionOptions(options: ClusterConnectOptions): NodeConnectionOptions {
  if (options.servers.length === 0) throw new ClusterConfigError("no NATS server given (--cluster nats://HOST:PORT[,...])");
  const nats: NodeConnectionOptions = {
    servers: [...options.servers],
    name: options.name,
    timeout: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
    // Once connected, a broker keeps trying for ever: NATS lost while running is an outage to ride out (issue 11),
    // not a reason to exit. The first connect is not retried (`waitOnFirstConnect` off): unreachable at start is
    // an operator's mistake, reported at once.
    reconnect: true,
    maxReconnectAttempts: -1,
    // The library's defaults (2 s between attempts, a ping every 2 minutes) would leave a broker refusing requests
    // for seconds after NATS is back, and notice a vanished host (no TCP reset) only after minutes; a ping every 5 s
    // with 3 outstanding finds it in about 15-20 s, as ZMTP heartbeats do on the workers socket.
    reconnectTimeWait: 500,
    pingInterval: 5000,
    maxPingOut: 3,
  };
  const auth = options.auth;
  if (auth !== undefined) {
    switch (auth.kind) {
      case "creds": {
        const creds = readable(auth.file, "credentials file");
        nats.authenticator = credsAuthenticator(creds);
        break;
      }
      case "user":
        nats.user = auth.user;
        nats.pass = auth.password;
        break;
      case "token":
        nats.token = auth.token;
        break;
      default: {
        const never: never = auth;
        throw new ClusterConfigError(`unknown NATS auth ${JSON.stringify(never)}`);
      }
    }
  }
  const tls = options.tls;
  if (tls !== undefined) {
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
      throw new ClusterConfigError("NATS TLS needs both a client certificate and its key, or neither");
    }
    // Read here so a missing file is one clear line at start, not a handshake failure later.
    for (const [file, what] of [[tls.caFile, "CA file"], [tls.certFile, "certificate"], [tls.keyFile, "key"]] as const) {
      if (file !== undefined) readable(file, `TLS ${what}`);
    }
    nats.tls = { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile };
  }
  return nats;
}
