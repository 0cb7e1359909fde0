/** Public entry point of the client library (protocol/spec.md §Client <-> broker). */
export { Client } from "./client";
export type { ClientOptions, FailoverOptions, Reply, RequestCallOptions } from "./client";
export { PlainClient } from "./plain-client";
export type { PlainClientOptions, PlainReply, PlainRequestOptions } from "./plain-client";
export { ClientAbortedError, ClientClosedError, ClientError, ClientSendError, ClientTimeoutError } from "./errors";
export type { ClientStats } from "./pending";
export type { PayloadLike } from "../peer/frames";
export type { BrokerLimits } from "../protocol/messages";
