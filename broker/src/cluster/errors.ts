/**
 * One error class per way the cluster adapter fails, each carrying the library's error as `cause`. Their messages
 * are one line a `ztb broker` can print as is (issue 11: "one clear line, exit 2").
 */

/** Base of every adapter error; `instanceof ClusterError` tells the shell the failure came from NATS/JetStream. */
export class ClusterError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The options cannot work (a bad cluster name, an unreadable credentials file): the operator's mistake. */
export class ClusterConfigError extends ClusterError {}

/** No NATS server in the list answered (refused, timed out, DNS) at connect. */
export class ClusterUnreachableError extends ClusterError {
  constructor(
    readonly servers: readonly string[],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A server answered but refused the credentials (user/password, token, or creds file). */
export class ClusterAuthError extends ClusterError {}

/** Connected, but JetStream is not enabled for this account or has no meta leader (cluster not formed). */
export class JetStreamUnavailableError extends ClusterError {}

/** A stream (or consumer) of the name ztb uses exists with settings ztb would not have chosen: never changed by ztb. */
export class StreamConflictError extends ClusterError {
  constructor(
    readonly stream: string,
    /** One entry per setting, e.g. `retention: limits, want workqueue`. */
    readonly differences: readonly string[],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Creating or reading the stream, a consumer or the results bucket failed for another reason. */
export class StreamSetupError extends ClusterError {}

/** A task is bigger than the server or the stream accepts; nothing was published. */
export class TaskTooLargeError extends ClusterError {
  constructor(
    readonly size: number,
    readonly limit: number,
    message: string,
  ) {
    super(message);
  }
}

/** Publishing a task got no positive acknowledgement from JetStream: it may or may not be stored (retry with the same Msg-Id). */
export class PublishError extends ClusterError {}

/** A fetch (pull request) failed: the consumer or stream vanished, or the connection was lost. */
export class FetchError extends ClusterError {
  /** Tasks handed over before the pull failed. */
  readonly delivered: number;
  constructor(message: string, options?: ErrorOptions & { delivered?: number }) {
    super(message, options);
    this.delivered = options?.delivered ?? 0;
  }
}

/** An acknowledgement was not confirmed by the server (the message will come back after its lease). */
export class AckError extends ClusterError {}

/** A message in the task stream is not a task this adapter wrote (missing header, truncated body). */
export class TaskDecodeError extends ClusterError {}

/** Reading or writing the kept-results bucket failed. */
export class KeptResultsError extends ClusterError {}
