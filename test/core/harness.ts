/** A fake-clock driver for BrokerCore: typed inputs in, outputs collected, no sockets, no sleeps. */
import { BrokerCore } from "../../broker/src/core/broker-core";
import type { CoreConfig, Input, Output } from "../../broker/src/core/api";
import type {
  AdminReply,
  AdminRequest,
  BrokerToWorker,
  ClientReply,
  Frame,
  ReadyOptions,
  RequestOptions,
  WorkerMessage,
} from "../../broker/src/protocol/messages";

export const DELIM: Frame = new Uint8Array(0);
export const PATH = [DELIM];

export function f(text: string): Frame {
  return new TextEncoder().encode(text);
}

export function s(frame: Frame | undefined): string {
  return frame === undefined ? "<none>" : new TextDecoder().decode(frame);
}

export function config(over: Partial<CoreConfig> = {}): CoreConfig {
  return {
    tries: null,
    timeout: null,
    heartbeat: 1000,
    maxQueue: null,
    history: 1000,
    services: [],
    bootNonce: "boot",
    info: { version: "test", endpoints: { clients: "c", workers: "w", answers: "a", admin: null } },
    ...over,
  };
}

export class Harness {
  readonly core: BrokerCore;
  now = 1_000_000;
  /** Every output so far, in order. */
  readonly log: Output[] = [];

  constructor(over: Partial<CoreConfig> = {}, now?: number) {
    if (now !== undefined) this.now = now;
    this.core = new BrokerCore(config(over), this.now);
  }

  in(input: Input): Output[] {
    const out = this.core.handle(input, this.now);
    this.log.push(...out);
    return out;
  }

  /** Moves the clock forward, firing every deadline on the way at its own time. */
  advance(ms: number): Output[] {
    const target = this.now + ms;
    const out: Output[] = [];
    for (let at = this.core.nextDeadline(); at !== undefined && at <= target; at = this.core.nextDeadline()) {
      this.now = Math.max(this.now, at);
      out.push(...this.core.tick(this.now));
    }
    this.now = target;
    out.push(...this.core.tick(this.now));
    this.log.push(...out);
    return out;
  }

  worker(peer: string, msg: WorkerMessage): Output[] {
    return this.in({ kind: "worker", peer, msg });
  }

  ready(peer: string, options: Partial<ReadyOptions> = {}): Output[] {
    return this.worker(peer, { type: "ready", options: { name: peer, capacity: 1, heartbeat: 10_000, ...options } });
  }

  request(peer: string, payload: string, options: RequestOptions = {}): Output[] {
    return this.in({ kind: "client", peer, msg: { type: "request", path: PATH, options, payload: [f(payload)] } });
  }

  plain(peer: string, payload: string): Output[] {
    return this.in({ kind: "client", peer, msg: { type: "plain-request", path: PATH, payload: [f(payload)] } });
  }

  result(peer: string, task: string, answer: string): Output[] {
    return this.worker(peer, { type: "result", task: f(task), payload: [f(answer)] });
  }

  fail(peer: string, task: string, retryable: boolean, message = "boom"): Output[] {
    return this.worker(peer, { type: "fail", task: f(task), message, retryable });
  }

  legacyReady(peer: string): Output[] {
    return this.worker(peer, { type: "legacy-ready", path: PATH, frame: f("requesting task") });
  }

  answer(task: string, answer: string): Output[] {
    return this.in({ kind: "answer", msg: { type: "legacy-answer", task: f(task), payload: [f(answer)] } });
  }

  admin(peer: string, msg: AdminRequest): Output[] {
    return this.in({ kind: "admin", peer, msg });
  }

  counters() {
    return this.core.snapshot({}, this.now).counters;
  }
}

export type WorkerOut = { peer: string; msg: BrokerToWorker };

export function toWorkers(out: Output[], type?: BrokerToWorker["type"]): WorkerOut[] {
  const list: WorkerOut[] = [];
  for (const o of out) if (o.kind === "to-worker" && (type === undefined || o.msg.type === type)) list.push({ peer: o.peer, msg: o.msg });
  return list;
}

/** TASK / legacy-task sends as [worker peer, task id]. */
export function tasksSent(out: Output[]): [string, string][] {
  const list: [string, string][] = [];
  for (const { peer, msg } of toWorkers(out)) if (msg.type === "task" || msg.type === "legacy-task") list.push([peer, s(msg.task)]);
  return list;
}

export function cancels(out: Output[]): [string, string, string][] {
  const list: [string, string, string][] = [];
  for (const { peer, msg } of toWorkers(out, "cancel")) if (msg.type === "cancel") list.push([peer, s(msg.task), msg.reason]);
  return list;
}

export function replies(out: Output[]): { peer: string; msg: ClientReply }[] {
  const list: { peer: string; msg: ClientReply }[] = [];
  for (const o of out) if (o.kind === "to-client") list.push({ peer: o.peer, msg: o.msg });
  return list;
}

/** The one enveloped reply in `out` (fails the test otherwise). */
export function onlyReply(out: Output[]): Extract<ClientReply, { type: "reply" }> {
  const r = replies(out);
  if (r.length !== 1 || r[0]?.msg.type !== "reply") throw new Error(`expected one enveloped reply, got ${JSON.stringify(r.map((x) => x.msg.type))}`);
  return r[0].msg;
}

export function adminOut(out: Output[]): { peer: string; msg: AdminReply }[] {
  const list: { peer: string; msg: AdminReply }[] = [];
  for (const o of out) if (o.kind === "to-admin") list.push({ peer: o.peer, msg: o.msg });
  return list;
}

/** The first task id sent in `out`. */
export function firstTask(out: Output[]): string {
  const t = tasksSent(out)[0];
  if (t === undefined) throw new Error("no task sent");
  return t[1];
}
