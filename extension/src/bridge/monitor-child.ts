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
 *
 * CURVE (protocol/spec.md §Security): the attach message names key files, read here with broker/src/security. A
 * handshake failure is reported once per attach and cause as a `curve-error` naming the likely cause
 * (bridge/curve-diagnosis.ts); so is a connection that stays without a handshake for DEAD_MS while CURVE is on.
 */
import { Dealer } from "zeromq";
import { Client, ClientTimeoutError, type Reply } from "../../../broker/src/client";
import type { AdminReply, AdminRequest, Frame } from "../../../broker/src/protocol/messages";
import { decodeAdminReply, encodeAdmin } from "../../../broker/src/codec";
import { applyClientSecurity, type PeerKeys } from "../../../broker/src/security";
import { CURVE_SETTINGS } from "../broker/curve";
import { classifyEvent } from "../model/sequence";
import { toFrameView } from "../model/frame-view";
import { PAGE } from "../../../broker/src/protocol/limits";
import { silentHandshake, type CurveProblem, type HandshakeContext } from "./curve-diagnosis";
import { loadCurveKeys, watchHandshakes, type HandshakeState } from "./curve-keys";
import type { ActionResult, AdminAction, CurveFiles, FromChild, RequestSpec, ToChild } from "./ipc";

const RENEW_MS = 2000;
const LEASE_MS = 10_000;
const DEAD_MS = 5000;
const ACTION_TIMEOUT_MS = 5000;
/** The largest page a SNAPSHOT gives. */
const SNAPSHOT_LIMIT = PAGE.max;
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

/** Loaded CURVE keys, and the setting the server key came from (for messages). */
interface Curve {
  keys: PeerKeys;
  serverKeySetting: string;
}

function handshakeContext(endpoint: string, role: HandshakeContext["role"], curve: Curve | undefined): HandshakeContext {
  return { endpoint, role, publicKey: curve?.keys.publicKey, serverKeySetting: curve?.serverKeySetting ?? CURVE_SETTINGS.serverKey };
}

interface AdminSocket {
  socket: Dealer;
  sender: SerialSender;
  handshakes: HandshakeState;
}

function adminSocket(endpoint: string, curve: Curve | undefined, onProblem: (problem: CurveProblem) => void): AdminSocket {
  const socket = new Dealer({ linger: 0, sendTimeout: 1000 });
  // Even without CURVE: a CURVE broker shows up as a mechanism mismatch, which is worth saying.
  const handshakes = watchHandshakes(socket, handshakeContext(endpoint, "admin", curve), onProblem);
  if (curve) applyClientSecurity(socket, curve.keys);
  socket.connect(endpoint);
  return { socket, sender: new SerialSender(socket), handshakes };
}

function request(req: AdminRequest): Frame[] {
  return encodeAdmin(req);
}

class Monitor {
  private admin: string | undefined;
  private curve: Curve | undefined;
  private socket: Dealer | undefined;
  private sender: SerialSender | undefined;
  private handshakes: HandshakeState | undefined;
  private readonly reported = new Set<CurveProblem["cause"]>();
  private timer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private lastSeq = 0;
  private hasSnapshot = false;
  private snapshotPending = false;
  private connected = false;
  private reportedDown = false;

  attach(admin: string, curve: Curve | undefined): void {
    this.detach();
    this.admin = admin;
    this.curve = curve;
    this.reported.clear();
    post({ type: "status", status: "connecting", detail: admin });
    this.open();
    this.timer = setInterval(() => this.tick(), RENEW_MS);
  }

  detach(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.close();
    this.admin = undefined;
    this.curve = undefined;
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
    const { socket, sender, handshakes } = adminSocket(this.admin, this.curve, (problem) => this.report(problem));
    this.socket = socket;
    this.sender = sender;
    this.handshakes = handshakes;
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
    this.handshakes = undefined;
  }

  /**
   * Once per attach and cause: libzmq retries the handshake every reconnect interval. "silent" only when nothing more
   * precise was said: a refused or garbled handshake also leaves the connection without one.
   */
  private report(problem: CurveProblem): void {
    if (this.reported.has(problem.cause) || (problem.cause === "silent" && this.reported.size > 0)) return;
    this.reported.add(problem.cause);
    post({ type: "curve-error", cause: problem.cause, message: problem.message });
  }

  private tick(): void {
    if (Date.now() - this.lastHeard > DEAD_MS) {
      // Connected but never through the handshake: with CURVE that is the broker not letting this key in.
      if (this.curve && this.admin !== undefined && this.handshakes?.connected === true && !this.handshakes.succeeded) {
        this.report(silentHandshake(handshakeContext(this.admin, "admin", this.curve), DEAD_MS / 1000));
      }
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
  private curve: Curve | undefined;
  private socket: Dealer | undefined;
  private sender: SerialSender | undefined;
  /** The last handshake failure on the current socket: a better reason for a timeout than "no answer". */
  private problem: CurveProblem | undefined;
  private readonly pending: PendingAction[] = [];

  attach(admin: string, curve: Curve | undefined): void {
    this.detach();
    this.admin = admin;
    this.curve = curve;
  }

  detach(): void {
    this.reset("detached");
    this.admin = undefined;
    this.curve = undefined;
  }

  run(id: number, action: AdminAction): void {
    if (this.admin === undefined) return post({ type: "action-error", id, code: "detached", message: "no broker attached" });
    if (!this.socket) {
      const { socket, sender } = adminSocket(this.admin, this.curve, (problem) => {
        if (socket === this.socket) this.problem = problem;
      });
      this.socket = socket;
      this.sender = sender;
      void this.receive(socket);
    }
    const timer = setTimeout(
      () => this.reset(this.problem?.message ?? `no answer from ${this.admin ?? "?"} within ${ACTION_TIMEOUT_MS / 1000} s`),
      ACTION_TIMEOUT_MS,
    );
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
    this.problem = undefined;
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
    case "delete":
      return { type: "delete", path, target: action.target };
    case "page":
      return { type: "snapshot", path, query: { tasks: { state: action.state, offset: action.offset, limit: action.limit } } };
    case "broker":
      // The query cannot ask for no task: one is the least.
      return { type: "snapshot", path, query: { tasks: { limit: 1 } } };
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
      result =
        p.action.kind === "broker"
          ? { kind: "broker", broker: reply.snapshot.broker, time: reply.snapshot.time }
          : { kind: "page", total: reply.snapshot.tasks.total, tasks: reply.snapshot.tasks.items };
      break;
    case "ack":
      result = { kind: "ack", body: reply.body };
      break;
    case "event":
      return { type: "action-error", id: p.id, code: "malformed", message: "unexpected EVENT" };
  }
  return { type: "action-result", id: p.id, result };
}

/**
 * Client requests from the editor, one enveloped Client per clients endpoint and keys. Key files are read again for
 * every request (two small files), so an edited certificate takes effect without a restart.
 */
class Requests {
  private readonly clients = new Map<string, Client>();
  private readonly aborts = new Map<number, AbortController>();

  send(id: number, spec: RequestSpec): void {
    const abort = new AbortController();
    this.aborts.set(id, abort);
    void this.run(id, spec, abort.signal)
      .catch((error: unknown) => post({ type: "request-error", id, message: describeRequestError(error, spec.curve) }))
      .finally(() => this.aborts.delete(id));
  }

  private async run(id: number, spec: RequestSpec, signal: AbortSignal): Promise<void> {
    const curve = spec.curve && (await loadCurveKeys(spec.curve));
    const key = curve ? `${spec.endpoint}\n${curve.publicKey}\n${curve.secretKey}\n${curve.serverKey}` : spec.endpoint;
    let client = this.clients.get(key);
    if (!client) {
      try {
        client = new Client({ endpoint: spec.endpoint, curve });
      } catch (error) {
        throw new Error(`cannot connect to ${spec.endpoint}: ${String(error)}`);
      }
      this.clients.set(key, client);
    }
    const started = performance.now();
    const payload = spec.frames.map((b64) => new Uint8Array(Buffer.from(b64, "base64")));
    const reply: Reply = await client.request(payload, { service: spec.service, timeout: spec.timeout, attempts: spec.attempts, brokerDeadline: spec.deadline, signal });
    const { payload: frames, ...detail } = reply;
    post({ type: "reply", id, detail, frames: frames.map(toFrameView), roundTrip: Math.round(performance.now() - started) });
  }

  cancel(id: number): void {
    this.aborts.get(id)?.abort();
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/**
 * The Client hides its socket, so a refused key shows up only as a timeout; with CURVE on, the timeout names the
 * likely causes.
 */
function describeRequestError(error: unknown, curve: CurveFiles | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof ClientTimeoutError) || !curve) return message;
  return `${message}; with CURVE on, the broker may not have the extension's key in its client allow-list (--client-keys), or ${curve.serverKeySetting} is not its public key`;
}

/** The keys an attach names, or undefined without CURVE. */
async function attachKeys(files: CurveFiles | undefined): Promise<Curve | undefined> {
  return files && { keys: await loadCurveKeys(files), serverKeySetting: files.serverKeySetting };
}

function main(): void {
  const monitor = new Monitor();
  const actions = new Actions();
  const requests = new Requests();
  // Loading keys is asynchronous: a detach or newer attach meanwhile makes the older attach's keys stale.
  let attachment = 0;
  process.on("message", (raw: unknown) => {
    const message = raw as ToChild;
    switch (message.type) {
      case "attach": {
        const current = ++attachment;
        monitor.detach();
        actions.detach();
        attachKeys(message.curve).then(
          (curve) => {
            if (current !== attachment) return;
            monitor.attach(message.admin, curve);
            actions.attach(message.admin, curve);
          },
          (error: unknown) => {
            // Nothing connects with a key that cannot be read: say which file, once.
            if (current !== attachment) return;
            post({ type: "curve-error", cause: "certificate", message: error instanceof Error ? error.message : String(error) });
          },
        );
        return;
      }
      case "detach":
        attachment++;
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
