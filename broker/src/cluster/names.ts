/**
 * Every NATS name ztb uses for one cluster, derived from the cluster name: the task stream, its subjects (one per
 * service), the durable consumers (one per service), the kept-results bucket, the reply subjects (one per broker) and
 * the max-deliveries advisory subject.
 *
 * Service names are any 1..64 characters (spec §JSON members), but a NATS subject token may not hold `.`, `*`, `>` or
 * whitespace, and a consumer name becomes a directory name on the server's disk. So a service becomes one token made
 * of `[A-Za-z0-9_-]` kept as they are and every other UTF-8 octet written `~XX` (upper-case hex): injective, readable
 * for ordinary names, and safe in subjects and file names. An encoding longer than 64 characters is replaced by `~h`
 * and a SHA-256 prefix (`~h` cannot come out of the escape, whose two characters are hex digits).
 */
import { createHash } from "node:crypto";
import { ClusterConfigError } from "./errors";

const PLAIN = /^[A-Za-z0-9_-]$/;
const MAX_TOKEN = 64;
/** Cluster names end up inside stream, consumer and bucket names: the characters all three accept. */
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const BROKER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The subject token (and consumer-name part) for a service name. */
export function serviceToken(service: string): string {
  let token = "";
  for (const octet of Buffer.from(service, "utf8")) {
    const char = String.fromCharCode(octet);
    token += octet < 0x80 && PLAIN.test(char) ? char : "~" + octet.toString(16).toUpperCase().padStart(2, "0");
  }
  if (token.length <= MAX_TOKEN) return token;
  return "~h" + createHash("sha256").update(service, "utf8").digest("hex").slice(0, 40);
}

/** Names for the cluster `cluster`; construct once with `clusterNames`. */
export interface ClusterNames {
  readonly cluster: string;
  /** The work-queue stream holding every service's tasks. */
  readonly stream: string;
  /** The stream's subject filter (`ztb.<cluster>.task.>`). */
  readonly streamSubjects: string;
  /** The key-value bucket of kept results. */
  readonly resultsBucket: string;
  taskSubject(service: string): string;
  consumer(service: string): string;
  replySubject(brokerId: string): string;
  /** Cancels broadcast to every broker (core NATS): the one holding the task stops it. */
  readonly cancelSubject: string;
  /** `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.*`: every service's consumer. */
  readonly maxDeliveriesSubject: string;
}

export function clusterNames(cluster: string): ClusterNames {
  if (!CLUSTER_NAME.test(cluster)) {
    throw new ClusterConfigError(`cluster name ${JSON.stringify(cluster)} must be 1..32 of A-Z a-z 0-9 _ -`);
  }
  const stream = `ZTB_${cluster}_TASKS`;
  return {
    cluster,
    stream,
    streamSubjects: `ztb.${cluster}.task.>`,
    resultsBucket: `ztb_${cluster}_results`,
    taskSubject: (service) => `ztb.${cluster}.task.${serviceToken(service)}`,
    consumer: (service) => `task_${serviceToken(service)}`,
    replySubject: (brokerId) => {
      if (!BROKER_ID.test(brokerId)) {
        throw new ClusterConfigError(`broker id ${JSON.stringify(brokerId)} must be 1..64 of A-Z a-z 0-9 _ -`);
      }
      return `ztb.${cluster}.reply.${brokerId}`;
    },
    cancelSubject: `ztb.${cluster}.cancel`,
    maxDeliveriesSubject: `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.*`,
  };
}
