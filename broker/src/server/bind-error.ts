import type { Endpoint } from "../core/api";
import { errorCode, errorMessage } from "./send-queue";

/** A socket could not bind its endpoint; `message` is the one line the CLI prints. */
export class BindError extends Error {
  constructor(
    readonly socket: Endpoint,
    readonly endpoint: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot bind ${socket} endpoint ${endpoint}: ${reason}`, options);
    this.name = "BindError";
  }

  static from(socket: Endpoint, endpoint: string, err: unknown): BindError {
    return new BindError(socket, endpoint, describeBindFailure(err), { cause: err });
  }
}

/** `--max-memory` leaves no room beside what the broker uses idle; `message` is the one line the CLI prints. */
export class BudgetError extends Error {
  override readonly name = "BudgetError";
}

/** libzmq's errno names (as zeromq.js reports them in `code`) in words a user can act on. */
function describeBindFailure(err: unknown): string {
  switch (errorCode(err)) {
    case "EADDRINUSE":
      return "address already in use";
    case "EADDRNOTAVAIL":
      return "address not available on this host";
    case "ENODEV":
      return "no such network interface or host";
    case "EPROTONOSUPPORT":
      return "unsupported transport (use tcp://, ipc:// or inproc://)";
    case "EINVAL":
      return "invalid endpoint";
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
      return "permission denied";
    default:
      return errorMessage(err).toLowerCase();
  }
}
