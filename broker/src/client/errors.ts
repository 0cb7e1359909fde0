/**
 * One error class per way a client call can fail without a REPLY from the broker. A failed REPLY is not an error: it
 * resolves with `status: "failed"` and its reason (protocol/spec.md §Client <-> broker).
 */
export class ClientError extends Error {
  override readonly name: string = "ClientError";
}

/** The client-side deadline passed with no reply (the broker is gone, or slower than the deadline). */
export class ClientTimeoutError extends ClientError {
  override readonly name = "ClientTimeoutError";
  constructor(
    readonly id: string,
    readonly deadline: number,
  ) {
    super(`no reply to request ${id} within ${deadline} ms`);
  }
}

/** The request's AbortSignal fired and the broker did not confirm the cancellation in time; `cause` is the signal's reason. */
export class ClientAbortedError extends ClientError {
  override readonly name = "ClientAbortedError";
  constructor(
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(`request ${id} aborted`, options);
  }
}

/** The client was closed while the request was pending. */
export class ClientClosedError extends ClientError {
  override readonly name = "ClientClosedError";
  constructor(readonly id: string) {
    super(`client closed before request ${id} was answered`);
  }
}

/** The request could not be handed to the socket; `cause` is zeromq.js's error. */
export class ClientSendError extends ClientError {
  override readonly name = "ClientSendError";
  constructor(
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(`request ${id} could not be sent`, options);
  }
}
