/**
 * The checks table of `ztb conformance`: one row per rule of protocol/spec.md that a peer can be seen to keep or
 * break over its sockets. Drivers report results by check id; the printer shows them in this table's order.
 */

export const WORKER_CHECKS = {
  "ready.first": { title: "the first message is READY", spec: "§Worker protocol › Modern workers, rule 1" },
  "ready.schema": { title: "READY is well-formed and schema-valid", spec: "§JSON members › READY; §Formal grammar worker-ready" },
  "heartbeat.interval": {
    title: "an idle worker sends HEARTBEAT at its announced interval",
    spec: "§Heartbeating, rule 1",
  },
  "task.answer-id": {
    title: "each TASK is answered once, by RESULT or FAIL naming its task id",
    spec: "§Worker protocol › Modern workers, rule 3",
  },
  "task.opaque-id": { title: "a binary task id is echoed octet for octet", spec: "§Task ids" },
  "task.capacity": { title: "the worker accepts as many TASKs at once as its capacity", spec: "§Capacity" },
  "task.fail": { title: "FAIL carries a reason (message, retryable) for a task it holds", spec: "§Worker protocol › Modern workers, rule 3; §JSON members › FAIL" },
  "task.other-service": {
    title: "a TASK for a service the worker did not announce is answered FAIL retryable",
    spec: "§Worker protocol › Modern workers, rule 7",
  },
  "task.repeat-id": {
    title: "the same task id after CANCEL timeout is run again and answered; capacity stays right",
    spec: "§Worker protocol › Modern workers, rule 6; §Capacity",
  },
  "extend.deadline": {
    title: "EXTEND names a held task, is schema-valid and arrives before the attempt's deadline",
    spec: "§Worker protocol › Modern workers, rule 4; §JSON members › EXTEND",
  },
  "cancel.honoured": {
    title: "CANCEL frees the slot and the cancelled task is not answered late",
    spec: "§Worker protocol › Modern workers, rule 5; §Capacity",
  },
  "cancel.unknown-reason": {
    title: "a CANCEL with a reason of a later revision still frees the slot",
    spec: "§JSON members (enumerated values may grow); §Capacity",
  },
  "broker.malformed": {
    title: "malformed broker messages (the spec's invalid vectors) do not stop the worker: its next TASK is answered",
    spec: "§Versioning and error handling › What the receiver does",
  },
  "liveness.broker-silent": {
    title: "a silent broker is declared dead after 3 x its interval; the worker reconnects with READY",
    spec: "§Heartbeating, rules 2-3; §Reconnecting",
  },
  "reconnect.restart": {
    title: "after a broker restart the worker registers again with READY",
    spec: "§Reliability › Broker restart; §DISCONNECT unknown-worker",
  },
  "disconnect.shutdown": {
    title: "after DISCONNECT shutdown the worker is silent on that connection and reconnects",
    spec: "§DISCONNECT",
  },
  "disconnect.protocol-error": {
    title: "after DISCONNECT protocol-error the worker is silent on that connection and reconnects with back-off",
    spec: "§DISCONNECT; §Reconnecting",
  },
  "leave.graceful": {
    title: "on SIGTERM the worker announces bye+finish, answers or gives back (FAIL returned) what it holds, then says bye",
    spec: "§Leaving without losing work",
  },
  "disconnect.bye": { title: "a worker that stops (SIGTERM) sends DISCONNECT first", spec: "§DISCONNECT; §Implementing a worker" },
  "disconnect.draining": {
    title: "after DISCONNECT draining the worker stops: no READY again",
    spec: "§DISCONNECT",
  },
  "schema.messages": {
    title: "every message the worker sent is valid ZTB/1",
    spec: "§Formal grammar; §Versioning and error handling",
  },
  "legacy.ready": { title: "the first message is a LEGACY-READY (one frame after the delimiter)", spec: "§Legacy workers, rule 1" },
  "legacy.answer-id": { title: "each LEGACY-TASK is answered on the answers endpoint with its task id", spec: "§Legacy workers, rule 3" },
  "legacy.opaque-id": { title: "a binary task id is echoed octet for octet", spec: "§Task ids; §Legacy workers, rule 3" },
  "legacy.asks-again": { title: "after an answer the worker asks for work again", spec: "§Legacy workers, rule 4" },
} as const satisfies Record<string, CheckInfo>;

export const CLIENT_CHECKS = {
  "client.request": {
    title: "the request is well-formed (plain, or an enveloped REQUEST with schema-valid options)",
    spec: "§Client protocol; §Formal grammar plain-request / client-request",
  },
  "client.success-reply": {
    title: "the client accepts a success reply: one request, exit status 0",
    spec: "§Client protocol",
  },
  "client.failure-reply": {
    title: "the client accepts a failure reply: one request, non-zero exit status",
    spec: "§Client protocol › Failure reasons",
  },
  "client.deadline": {
    title: "with no reply at all, the client gives up on its own (non-zero exit) in time: its REQUEST deadline + 5 s, or 60 s",
    spec: "§Request deadlines, rule 5; §Implementing a client, rule 2; §Command line and environment",
  },
  "client.cancel": {
    title: "a CANCEL names a request of the same connection, and a keyed request that is sent again is not cancelled",
    spec: "§Enveloped mode; §Idempotent requests, rule 5; §Implementing a client, rule 3",
  },
  "client.resend": {
    title: "a request sent again after no reply carries the first one's key, on a new connection",
    spec: "§Idempotent requests; §Reliability; §Implementing a client, rule 3",
  },
  "schema.messages": {
    title: "every message the client sent is valid ZTB/1",
    spec: "§Formal grammar; §Versioning and error handling",
  },
} as const satisfies Record<string, CheckInfo>;

export interface CheckInfo {
  title: string;
  spec: string;
}

export type WorkerCheckId = keyof typeof WORKER_CHECKS;
export type ClientCheckId = keyof typeof CLIENT_CHECKS;
export type CheckId = WorkerCheckId | ClientCheckId;

/** Modern checks a legacy worker cannot take part in (it has no READY, heartbeats, FAIL, CANCEL or DISCONNECT). */
export const MODERN_ONLY: readonly WorkerCheckId[] = [
  "ready.first",
  "ready.schema",
  "heartbeat.interval",
  "task.answer-id",
  "task.opaque-id",
  "task.capacity",
  "task.fail",
  "task.other-service",
  "task.repeat-id",
  "extend.deadline",
  "cancel.honoured",
  "cancel.unknown-reason",
  "broker.malformed",
  "liveness.broker-silent",
  "reconnect.restart",
  "disconnect.shutdown",
  "disconnect.protocol-error",
  "leave.graceful",
  "disconnect.bye",
  "disconnect.draining",
];
export const LEGACY_ONLY: readonly WorkerCheckId[] = ["legacy.ready", "legacy.answer-id", "legacy.opaque-id", "legacy.asks-again"];

/**
 * pass / fail; `skip` = the behaviour was not observed in this run (e.g. the worker never sent FAIL) or an earlier
 * failure made the check impossible; `n/a` = the rule does not apply to this kind of peer.
 */
export type CheckStatus = "pass" | "fail" | "skip" | "n/a";

export interface CheckResult {
  id: string;
  status: CheckStatus;
  title: string;
  spec: string;
  /** What was seen, in one line: why it failed, or what passing meant here. */
  detail?: string;
  /** The offending messages, each as its frames in hex (an empty frame is `""`). */
  frames?: string[];
}

/** Collects results by check id; a check reported twice keeps its first failure (or else its latest result). */
export class Results<Id extends string> {
  private readonly results = new Map<Id, CheckResult>();

  constructor(private readonly table: Readonly<Record<Id, CheckInfo>>) {}

  pass(id: Id, detail?: string): void {
    this.set(id, "pass", detail);
  }

  fail(id: Id, detail: string, frames?: string[]): void {
    this.set(id, "fail", detail, frames);
  }

  skip(id: Id, detail: string): void {
    this.set(id, "skip", detail);
  }

  notApplicable(id: Id, detail: string): void {
    this.set(id, "n/a", detail);
  }

  has(id: Id): boolean {
    return this.results.has(id);
  }

  failed(id: Id): boolean {
    return this.results.get(id)?.status === "fail";
  }

  /** Every row of the table, in table order; a check nobody reported is a skip. */
  list(): CheckResult[] {
    return (Object.keys(this.table) as Id[]).map(
      (id) => this.results.get(id) ?? { id, status: "skip", ...this.table[id], detail: "not reached" },
    );
  }

  private set(id: Id, status: CheckStatus, detail?: string, frames?: string[]): void {
    if (this.failed(id)) return;
    const result: CheckResult = { id, status, ...this.table[id] };
    if (detail !== undefined) result.detail = detail;
    if (frames !== undefined && frames.length > 0) result.frames = frames;
    this.results.set(id, result);
  }
}
