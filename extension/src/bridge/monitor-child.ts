/**
 * The monitor child process: the only part of the extension that loads zeromq (the extension host must never load a
 * native module that could crash it). Forked by bridge/monitor-bridge.ts; speaks bridge/ipc.ts over Node IPC.
 *
 * Admin protocol (ztb-brief §Admin), as a monitor:
 * - On attach, SUBSCRIBE first, then SNAPSHOT, on one DEALER. Subscribing first means no EVENT can fall between the
 *   snapshot and the subscription; events at or below the snapshot's seq are already in it and are dropped.
 * - The lease is renewed by re-sending SUBSCRIBE every RENEW_MS; its ACK doubles as the broker's sign of life.
 * - An EVENT whose seq is not last+1 (a gap), or an ACK whose seq is below the last seen one (the broker restarted
 *   behind the same endpoint), triggers a new SNAPSHOT.
 * - Nothing heard for DEAD_MS: report "disconnected", replace the socket (dropping queued requests) and keep trying.
 * Admin actions go over a second DEALER whose replies come back in request order (the broker answers one admin
 * request at a time), so they are matched first-in first-out; a timeout there resets that socket.
 */
import { Dealer } from "zeromq";
import { Client, type Reply } from "../../../broker/src/client";
import type { AdminReply, AdminRequest, Frame } from "../../../broker/src/protocol/messages";
import { decodeAdminReply, encodeAdmin } from "../../../broker/src/codec";
import { classifyEvent } from "../model/sequence";
import { toFrameView } from "../model/frame-view";
import type { ActionResult, AdminAction, FromChild, RequestSpec, ToChild } from "./ipc";

const RENEW_MS = 2000;
const LEASE_MS = 10_000;
const DEAD_MS = 5000;
const ACTION_TIMEOUT_MS = 5000;
const SNAPSHOT_LIMIT = 500;
const EMPTY: Frame = new Uint8Array(0);

function post(message: FromChild): void {
  if (process.connected) process.send?.(message);
}

function log(level: "trace" | "info" | "warn" | "error", message: string): void {
  post({ type: "log", level, message });
}

/** One pending send at a time per zeromq.js socket: chain them. */
class SerialSender {
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly socket: Dealer) {}
  send(frames: Frame[]): void {
    this.chain = this.chain
      .then(() => this.socket.send(frames))
      .catch((error: unknown) => {
        if (!this.socket.closed) log("warn", `admin send failed: ${String(error)}`);
      });
  }
}

function adminSocket(endpoint: string): { socket: Dealer; sender: SerialSender } {
  const socket = new Dealer({ linger: 0, sendTimeout: 1000 });
  socket.connect(endpoint);
  return { socket, sender: new SerialSender(socket) };
}

function request(req: AdminRequest): Frame[] {
  return encodeAdmin(req);
}

class Monitor {
  private admin: string | undefined;
  private socket: Dealer | undefined;
  private sender: SerialSender | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private lastSeq = 0;
  private hasSnapshot = false;
  private snapshotPending = false;
  private connected = false;
  private reportedDown = false;

  attach(admin: string): void {
    this.detach();
    this.admin = admin;
    post({ type: "status", status: "connecting", detail: admin });
    this.open();
    this.timer = setInterval(() => this.tick(), RENEW_MS);
  }

  detach(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.close();
    this.admin = undefined;
    this.connected = false;
    this.reportedDown = false;
  }

  resnapshot(): void {
    if (!this.sender || this.snapshotPending) return;
    this.snapshotPending = true;
    this.sender.send(request({ type: "snapshot", path: [EMPTY], query: { tasks: { limit: SNAPSHOT_LIMIT } } }));
  }

  private open(): void {
    if (this.admin === undefined) return;
    const { socket, sender } = adminSocket(this.admin);
    this.socket = socket;
    this.sender = sender;
    this.lastHeard = Date.now();
    this.hasSnapshot = false;
    this.snapshotPending = false;
    sender.send(request({ type: "subscribe", path: [EMPTY], lease: LEASE_MS }));
    this.resnapshot();
    void this.receive(socket);
  }

  private close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.sender = undefined;
  }

  private tick(): void {
    if (Date.now() - this.lastHeard > DEAD_MS) {
      if (!this.reportedDown) {
        post({ type: "status", status: "disconnected", detail: `no answer from ${this.admin ?? "?"} for ${DEAD_MS / 1000} s` });
      }
      this.reportedDown = true;
      this.connected = false;
      this.close();
      this.open();
      return;
    }
    this.sender?.send(request({ type: "subscribe", path: [EMPTY], lease: LEASE_MS }));
    if (!this.hasSnapshot) this.resnapshot();
  }

  private async receive(socket: Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        if (socket !== this.socket) return;
        this.lastHeard = Date.now();
        let reply: AdminReply;
        try {
          reply = decodeAdminReply(frames);
        } catch (error) {
          log("warn", `undecodable admin message: ${String(error)}`);
          continue;
        }
        this.onReply(reply);
      }
    } catch (error) {
      if (!socket.closed) log("warn", `admin receive failed: ${String(error)}`);
    }
  }

  private onReply(reply: AdminReply): void {
    switch (reply.type) {
      case "snapshot":
        this.snapshotPending = false;
        this.hasSnapshot = true;
        this.lastSeq = reply.snapshot.seq;
        if (!this.connected) post({ type: "status", status: "connected", detail: this.admin });
        this.connected = true;
        this.reportedDown = false;
        post({ type: "snapshot", snapshot: reply.snapshot });
        return;
      case "event": {
        if (!this.hasSnapshot || this.snapshotPending) return;
        const order = classifyEvent(this.lastSeq, reply.event.seq);
        if (order === "stale") return;
        if (order === "gap") {
          log("info", `event seq ${reply.event.seq} after ${this.lastSeq}: taking a new snapshot`);
          this.resnapshot();
          return;
        }
        this.lastSeq = reply.event.seq;
        post({ type: "event", event: reply.event });
        return;
      }
      case "ack": {
        const seq = reply.body["seq"];
        if (this.hasSnapshot && typeof seq === "number" && seq < this.lastSeq) {
          log("info", `subscription seq ${seq} below ${this.lastSeq}: the broker restarted, taking a new snapshot`);
          this.resnapshot();
        }
        return;
      }
      case "error":
        log("warn", `admin error ${reply.code}: ${reply.message}`);
        this.snapshotPending = false;
        return;
      case "task":
        return;
    }
  }
}

interface PendingAction {
  id: number;
  action: AdminAction;
  timer: NodeJS.Timeout;
}

/** Admin actions on their own DEALER, answered in order. */
class Actions {
  private admin: string | undefined;
  private socket: Dealer | undefined;
  private sender: SerialSender | undefined;
  private readonly pending: PendingAction[] = [];

  attach(admin: string): void {
    this.detach();
    this.admin = admin;
  }

  detach(): void {
    this.reset("detached");
    this.admin = undefined;
  }

  run(id: number, action: AdminAction): void {
    if (this.admin === undefined) return post({ type: "action-error", id, code: "detached", message: "no broker attached" });
    if (!this.socket) {
      const { socket, sender } = adminSocket(this.admin);
      this.socket = socket;
      this.sender = sender;
      void this.receive(socket);
    }
    const timer = setTimeout(() => this.reset(`no answer from ${this.admin ?? "?"} within ${ACTION_TIMEOUT_MS / 1000} s`), ACTION_TIMEOUT_MS);
    this.pending.push({ id, action, timer });
    this.sender?.send(encodeAdmin(toRequest(action)));
  }

  private reset(reason: string): void {
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      post({ type: "action-error", id: p.id, code: "timeout", message: reason });
    }
    this.socket?.close();
    this.socket = undefined;
    this.sender = undefined;
  }

  private async receive(socket: Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        if (socket !== this.socket) return;
        let reply: AdminReply;
        try {
          reply = decodeAdminReply(frames);
        } catch (error) {
          log("warn", `undecodable admin reply: ${String(error)}`);
          continue;
        }
        if (reply.type === "event") continue;
        const p = this.pending.shift();
        if (!p) continue;
        clearTimeout(p.timer);
        post(toResult(p, reply));
      }
    } catch (error) {
      if (!socket.closed) log("warn", `admin receive failed: ${String(error)}`);
    }
  }
}

function toRequest(action: AdminAction): AdminRequest {
  const path = [EMPTY];
  switch (action.kind) {
    case "inspect":
      return { type: "inspect", path, task: action.task };
    case "cancel":
      return { type: "cancel", path, task: action.task };
    case "retry":
      return { type: "retry", path, task: action.task };
    case "drain":
      return { type: "drain", path, worker: action.worker, drain: action.drain };
    case "page":
      return { type: "snapshot", path, query: { tasks: { state: action.state, offset: action.offset, limit: action.limit } } };
  }
}

function toResult(p: PendingAction, reply: AdminReply): FromChild {
  let result: ActionResult;
  switch (reply.type) {
    case "error":
      return { type: "action-error", id: p.id, code: reply.code, message: reply.message };
    case "task":
      result = { kind: "inspect", inspection: reply.inspection };
      break;
    case "snapshot":
      result = { kind: "page", total: reply.snapshot.tasks.total, tasks: reply.snapshot.tasks.items };
      break;
    case "ack":
      result = { kind: "ack", body: reply.body };
      break;
    case "event":
      return { type: "action-error", id: p.id, code: "malformed", message: "unexpected EVENT" };
  }
  return { type: "action-result", id: p.id, result };
}

/** Client requests from the editor, one enveloped Client per clients endpoint. */
class Requests {
  private readonly clients = new Map<string, Client>();
  private readonly aborts = new Map<number, AbortController>();

  send(id: number, spec: RequestSpec): void {
    let client = this.clients.get(spec.endpoint);
    try {
      if (!client) {
        client = new Client({ endpoint: spec.endpoint });
        this.clients.set(spec.endpoint, client);
      }
    } catch (error) {
      return post({ type: "request-error", id, message: `cannot connect to ${spec.endpoint}: ${String(error)}` });
    }
    const abort = new AbortController();
    this.aborts.set(id, abort);
    const started = performance.now();
    const payload = spec.frames.map((b64) => new Uint8Array(Buffer.from(b64, "base64")));
    client
      .request(payload, { service: spec.service, timeout: spec.timeout, attempts: spec.attempts, signal: abort.signal })
      .then((reply: Reply) => {
        const { payload: frames, ...detail } = reply;
        post({ type: "reply", id, detail, frames: frames.map(toFrameView), roundTrip: Math.round(performance.now() - started) });
      })
      .catch((error: unknown) => post({ type: "request-error", id, message: error instanceof Error ? error.message : String(error) }))
      .finally(() => this.aborts.delete(id));
  }

  cancel(id: number): void {
    this.aborts.get(id)?.abort();
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

function main(): void {
  const monitor = new Monitor();
  const actions = new Actions();
  const requests = new Requests();
  process.on("message", (raw: unknown) => {
    const message = raw as ToChild;
    switch (message.type) {
      case "attach":
        monitor.attach(message.admin);
        actions.attach(message.admin);
        return;
      case "detach":
        monitor.detach();
        actions.detach();
        return;
      case "resnapshot":
        monitor.resnapshot();
        return;
      case "action":
        actions.run(message.id, message.action);
        return;
      case "request":
        requests.send(message.id, message.spec);
        return;
      case "cancel-request":
        requests.cancel(message.id);
        return;
    }
  });
  // The extension host went away (or closed the channel): nothing left to serve.
  process.on("disconnect", () => {
    monitor.detach();
    actions.detach();
    requests.close();
    process.exit(0);
  });
  post({ type: "ready", zeromq: "loaded" });
}

main();
