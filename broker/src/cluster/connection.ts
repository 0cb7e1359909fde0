/**
 * One connection to the NATS cluster with JetStream checked: the first thing `ztb broker --cluster` does, failing with
 * one line when the servers cannot be reached, refuse the credentials, or have no JetStream.
 */
import { AuthorizationError, connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { natsConnectionOptions, type ClusterConnectOptions } from "./connect-options";
import { ClusterAuthError, ClusterUnreachableError, JetStreamUnavailableError } from "./errors";

export interface ClusterConnection {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly js: JetStreamClient;
  /** Largest message the connected server accepts (its `max_payload`), headers included. */
  readonly maxPayload: number;
  /** Closes at once (no drain: it would wait for a server that may be gone); resolves when closed. */
  close(): Promise<void>;
}

function reason(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Connects and checks that JetStream answers; every failure is a ClusterError whose message is one line. */
export async function connectCluster(options: ClusterConnectOptions): Promise<ClusterConnection> {
  const natsOptions = natsConnectionOptions(options);
  const where = options.servers.join(",");
  let nc: NatsConnection;
  try {
    nc = await connect(natsOptions);
  } catch (error) {
    if (error instanceof AuthorizationError) {
      throw new ClusterAuthError(`NATS at ${where} refused the credentials (${reason(error)})`, { cause: error });
    }
    throw new ClusterUnreachableError(options.servers, `cannot reach NATS at ${where} (${reason(error)})`, { cause: error });
  }
  let jsm: JetStreamManager;
  try {
    // With the API check on, this asks the server for the account's JetStream info: fails without JetStream, or in
    // a cluster with no meta leader (not formed yet, or lost its quorum).
    jsm = await jetstreamManager(nc, { checkAPI: true });
  } catch (error) {
    await nc.close();
    throw new JetStreamUnavailableError(`NATS at ${where} has no usable JetStream (${reason(error)}); start nats-server with -js`, {
      cause: error,
    });
  }
  return {
    nc,
    jsm,
    js: jsm.jetstream(),
    maxPayload: nc.info?.max_payload ?? 1024 * 1024,
    close: async () => {
      if (!nc.isClosed()) await nc.close();
    },
  };
}
