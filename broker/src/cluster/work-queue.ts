/**
 * The cluster's task queue on JetStream: one work-queue stream, one subject and one durable pull consumer per
 * service. Every call is one thing a broker core would ask for (DESIGN.md §Seam): publish a task, fetch n tasks of a
 * service when n slots are free, read a service's depth. Nothing is fetched unless asked: the consumers are pull
 * consumers, so a broker never holds a task no worker of its own can take.
 */
import { nuid } from "@nats-io/transport-node";
import { JetStreamApiError, JetStreamApiCodes, type Consumer, type ConsumerInfo, type StreamInfo } from "@nats-io/jetstream";
import type { ClusterConnection } from "./connection";
import {
  FetchError,
  PublishError,
  StreamConflictError,
  StreamSetupError,
  TaskDecodeError,
  TaskTooLargeError,
} from "./errors";
import { LeasedTask } from "./leased-task";
import type { ClusterNames } from "./names";
import { consumerDifferences, desiredConsumer, desiredStream, streamDifferences, type WorkQueueSettings } from "./stream-settings";
import { decodeTask, encodeFrames, encodeHeaders, type ClusterTask } from "./task-record";
import { msgIdFor, scopedKey } from "./keys";

/** Room kept for the subject, the headers and the protocol line when checking a task against `max_payload`. */
const ENVELOPE_ALLOWANCE = 4096;

export interface Published {
  /** Stream sequence of the stored message (of the first one, for a duplicate). */
  seq: number;
  /** True when a message with the same Msg-Id was already stored inside the duplicate window: nothing new stored. */
  duplicate: boolean;
  msgId: string;
}

export interface Fetched {
  tasks: LeasedTask[];
  /** Messages in the stream that are not ztb tasks: already terminated, reported so the broker can log them. */
  foreign: TaskDecodeError[];
}

export interface QueueDepth {
  /** Tasks waiting to be fetched (JetStream num_pending). */
  waiting: number;
  /** Tasks fetched by some broker and not settled yet (num_ack_pending). */
  running: number;
}

function isNotFound(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

export class WorkQueue {
  private readonly consumers = new Map<string, Consumer>();

  private constructor(
    private readonly conn: ClusterConnection,
    readonly names: ClusterNames,
    readonly settings: WorkQueueSettings,
  ) {}

  /**
   * Creates the stream, or checks that the existing one has ztb's settings; throws StreamConflictError naming every
   * difference, and never changes a stream it did not create.
   */
  static async open(conn: ClusterConnection, names: ClusterNames, settings: WorkQueueSettings): Promise<WorkQueue> {
    const want = desiredStream(names, settings);
    let existing: StreamInfo | undefined;
    try {
      existing = await conn.jsm.streams.info(names.stream);
    } catch (error) {
      if (!isNotFound(error, JetStreamApiCodes.StreamNotFound)) {
        throw new StreamSetupError(`cannot read stream ${names.stream}: ${(error as Error).message}`, { cause: error });
      }
    }
    if (existing === undefined) {
      try {
        await conn.jsm.streams.add(want);
      } catch (error) {
        // Another broker may have created it a moment ago: then it is checked like any existing stream.
        try {
          existing = await conn.jsm.streams.info(names.stream);
        } catch {
          throw new StreamSetupError(`cannot create stream ${names.stream}: ${(error as Error).message}`, { cause: error });
        }
      }
    }
    if (existing !== undefined) {
      const differences = streamDifferences(existing, want);
      if (differences.length > 0) {
        throw new StreamConflictError(
          names.stream,
          differences,
          `stream ${names.stream} exists with other settings (${differences.join("; ")}): ztb will not change it; ` +
            `delete it or choose another cluster name`,
        );
      }
    }
    await checkConsumers(conn, names, settings);
    return new WorkQueue(conn, names, settings);
  }

  /**
   * Stores a task (once per Msg-Id inside the duplicate window). The Msg-Id is derived from the client's key, or
   * generated when the request has none. Resolves only once JetStream stored it (on a quorum of replicas).
   */
  async publish(task: ClusterTask, timeout = 5000): Promise<Published> {
    const body = encodeFrames(task.payload);
    const limit = Math.min(this.settings.maxMessageSize, this.conn.maxPayload - ENVELOPE_ALLOWANCE);
    if (body.length > limit) {
      throw new TaskTooLargeError(body.length, limit, `task ${task.task} is ${body.length} octets, the cluster takes at most ${limit}`);
    }
    const msgId = task.key === null ? msgIdFor({ generated: nuid.next() }) : msgIdFor({ key: scopedKey(task.service, task.key) });
    try {
      const ack = await this.conn.js.publish(this.names.taskSubject(task.service), body, {
        msgID: msgId,
        headers: encodeHeaders(task),
        timeout,
      });
      return { seq: ack.seq, duplicate: ack.duplicate, msgId };
    } catch (error) {
      throw new PublishError(`task ${task.task} not stored in ${this.names.stream}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Creates (or checks) the durable consumer of `service`; fetch and depth call it on first use. */
  async consumer(service: string): Promise<Consumer> {
    const cached = this.consumers.get(service);
    if (cached !== undefined) return cached;
    const want = desiredConsumer(this.names, service, this.settings);
    const name = this.names.consumer(service);
    let info: ConsumerInfo;
    try {
      info = await this.conn.jsm.consumers.info(this.names.stream, name);
    } catch (error) {
      if (!isNotFound(error, JetStreamApiCodes.ConsumerNotFound)) {
        throw new StreamSetupError(`cannot read consumer ${name}: ${(error as Error).message}`, { cause: error });
      }
      try {
        info = await this.conn.jsm.consumers.add(this.names.stream, want);
      } catch (addError) {
        throw new StreamSetupError(`cannot create consumer ${name}: ${(addError as Error).message}`, { cause: addError });
      }
    }
    const differences = consumerDifferences(info, want);
    if (differences.length > 0) {
      throw new StreamConflictError(
        this.names.stream,
        differences,
        `consumer ${name} of stream ${this.names.stream} exists with other settings (${differences.join("; ")}): ` +
          `every broker of a cluster needs the same -t and lease`,
      );
    }
    const consumer = this.conn.js.consumers.getConsumerFromInfo(info);
    this.consumers.set(service, consumer);
    return consumer;
  }

  /**
   * Asks JetStream for at most `count` tasks of `service` and waits up to `expires` ms (at least 1000, the client
   * library's floor) for them to arrive. Exactly one pull request is made; fewer tasks (or none) come back when the
   * queue has fewer. Foreign messages are terminated and reported, never given to a worker.
   */
  async fetch(service: string, count: number, expires = 1000): Promise<Fetched> {
    const tasks: LeasedTask[] = [];
    const { foreign } = await this.pull(service, count, expires, (leased) => tasks.push(leased));
    return { tasks, foreign };
  }

  /**
   * `fetch`, handing each task to `onTask` the moment it arrives rather than when the pull ends: a pull for n slots
   * that gets fewer than n tasks stays open until `expires`, and the tasks it did get must run (and have their
   * lease renewed) meanwhile. Resolves with how many tasks arrived when the pull ends.
   */
  async pull(service: string, count: number, expires: number, onTask: (leased: LeasedTask) => void): Promise<{ delivered: number; foreign: TaskDecodeError[] }> {
    if (!Number.isInteger(count) || count < 1) throw new FetchError(`fetch of ${count} tasks: ask for 1 or more`);
    const consumer = await this.consumer(service);
    const foreign: TaskDecodeError[] = [];
    let delivered = 0;
    try {
      const messages = await consumer.fetch({ max_messages: count, expires: Math.max(1000, expires) });
      for await (const msg of messages) {
        let leased: LeasedTask;
        try {
          leased = new LeasedTask(decodeTask(msg.headers, msg.data), msg);
        } catch (error) {
          if (!(error instanceof TaskDecodeError)) throw error;
          msg.term();
          foreign.push(error);
          continue;
        }
        delivered++;
        onTask(leased);
      }
    } catch (error) {
      // Tasks already handed over stay leased by this broker. The consumer is looked up again next time: it may
      // have been deleted (then it is created anew).
      this.consumers.delete(service);
      throw new FetchError(`fetch from ${this.names.consumer(service)} failed: ${(error as Error).message}`, { cause: error, delivered });
    }
    return { delivered, foreign };
  }

  /**
   * Cluster-wide depth of one service (from its consumer: every broker's view is the same). A service nobody serves
   * yet has no consumer, and asking must not make one (clients name services): its waiting tasks are counted on the
   * stream's subject instead.
   */
  async depth(service: string): Promise<QueueDepth> {
    const name = this.names.consumer(service);
    try {
      const cached = this.consumers.get(service);
      const info = cached !== undefined ? await cached.info(false) : await this.conn.jsm.consumers.info(this.names.stream, name);
      return { waiting: info.num_pending, running: info.num_ack_pending };
    } catch (error) {
      if (!isNotFound(error, JetStreamApiCodes.ConsumerNotFound)) {
        throw new StreamSetupError(`cannot read consumer ${name}: ${(error as Error).message}`, { cause: error });
      }
    }
    const subject = this.names.taskSubject(service);
    try {
      const info = await this.conn.jsm.streams.info(this.names.stream, { subjects_filter: subject });
      return { waiting: info.state.subjects?.[subject] ?? 0, running: 0 };
    } catch (error) {
      throw new StreamSetupError(`cannot read stream ${this.names.stream}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Takes a waiting task out of the stream (a cancelled request); false when it was already gone. */
  async remove(seq: number): Promise<boolean> {
    try {
      return await this.conn.jsm.streams.deleteMessage(this.names.stream, seq, false);
    } catch {
      return false;
    }
  }
}

/**
 * Consumers are made per service on first use, so a broker started with another `-t` or `--lease` than the cluster's
 * would only be caught at its first pull: every consumer already there is checked at start instead.
 */
async function checkConsumers(conn: ClusterConnection, names: ClusterNames, settings: WorkQueueSettings): Promise<void> {
  let infos: ConsumerInfo[];
  try {
    infos = await conn.jsm.consumers.list(names.stream).next();
  } catch (error) {
    throw new StreamSetupError(`cannot list the consumers of ${names.stream}: ${(error as Error).message}`, { cause: error });
  }
  for (const info of infos) {
    const want = desiredConsumer(names, "", settings);
    const differences = consumerDifferences(info, { ...want, filter_subject: info.config.filter_subject });
    if (differences.length > 0) {
      throw new StreamConflictError(
        names.stream,
        differences,
        `consumer ${info.name} of stream ${names.stream} exists with other settings (${differences.join("; ")}): ` +
          `every broker of a cluster needs the same -t and --lease`,
      );
    }
  }
}
