/**
 * Extension side of the monitor child (bridge/monitor-child.ts): forks it with the extension host's runtime, sends it
 * typed messages (bridge/ipc.ts) and turns its answers into promises and events. A crashing child is logged, every
 * pending call fails, and the child is forked again (at most MAX_RESTARTS per minute); the extension host never sees
 * more than an event.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as vscode from "vscode";
import type { FrameView, ReplyDetail } from "../../../broker/src/protocol/messages";
import type { ActionResult, AdminAction, CurveFiles, FromChild, RequestSpec, ToChild } from "./ipc";

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export interface RequestOutcome {
  detail: ReplyDetail;
  frames: FrameView[];
  roundTrip: number;
}

export class MonitorBridge implements vscode.Disposable {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pendingActions = new Map<number, { resolve: (r: ActionResult) => void; reject: (e: Error) => void }>();
  private readonly pendingRequests = new Map<number, { resolve: (r: RequestOutcome) => void; reject: (e: Error) => void }>();
  private attachedTo: { admin: string; curve: CurveFiles | undefined } | undefined;
  private restarts: number[] = [];
  private disposed = false;
  private stderrTail = "";
  private readonly emitter = new vscode.EventEmitter<FromChild>();
  /** Every status, snapshot, event and fatal message from the child. */
  readonly onMessage = this.emitter.event;

  constructor(
    private readonly script: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Monitors `admin`, with CURVE when `curve` names the key files (read by the child, never here). */
  attach(admin: string, curve?: CurveFiles): void {
    this.attachedTo = { admin, curve };
    this.post(attachMessage(admin, curve));
  }

  detach(): void {
    this.attachedTo = undefined;
    if (this.child) this.post({ type: "detach" });
  }

  resnapshot(): void {
    if (this.attachedTo !== undefined) this.post({ type: "resnapshot" });
  }

  action(action: AdminAction): Promise<ActionResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pendingActions.set(id, { resolve, reject });
      this.post({ type: "action", id, action });
    });
  }

  /** Sends a client request; cancelling the token sends CANCEL and the promise resolves with the broker's reply. */
  request(spec: RequestSpec, token?: vscode.CancellationToken): Promise<RequestOutcome> {
    const id = this.nextId++;
    const subscription = token?.onCancellationRequested(() => this.post({ type: "cancel-request", id }));
    return new Promise<RequestOutcome>((resolve, reject) => {
      this.pendingRequests.set(id, { resolve, reject });
      this.post({ type: "request", id, spec });
    }).finally(() => subscription?.dispose());
  }

  dispose(): void {
    this.disposed = true;
    this.failPending("the extension is shutting down");
    this.child?.disconnect?.();
    this.child?.kill();
    this.child = undefined;
    this.emitter.dispose();
  }

  private post(message: ToChild): void {
    const child = this.ensureChild();
    if (!child?.connected) {
      this.log.warn(`monitor child not connected; dropped ${message.type}`);
      return;
    }
    child.send(message, (error) => {
      if (error) this.log.warn(`monitor child: ${error.message}`);
    });
  }

  private ensureChild(): ChildProcess | undefined {
    if (this.child || this.disposed) return this.child;
    this.stderrTail = "";
    const child = fork(this.script, [], {
      execArgv: [],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.child = child;
    this.log.info(`monitor child started (pid ${child.pid ?? "?"})`);
    child.stderr?.on("data", (data: Buffer) => {
      const text = data.toString();
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.trim()) this.log.warn(`[monitor] ${line}`);
    });
    child.stdout?.on("data", (data: Buffer) => this.log.trace(`[monitor] ${data.toString().trimEnd()}`));
    child.on("message", (message: FromChild) => this.onChildMessage(message));
    child.on("error", (error) => this.log.error(`monitor child: ${error.message}`));
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    return child;
  }

  private onChildMessage(message: FromChild): void {
    switch (message.type) {
      case "action-result":
        this.pendingActions.get(message.id)?.resolve(message.result);
        this.pendingActions.delete(message.id);
        return;
      case "action-error":
        this.pendingActions.get(message.id)?.reject(new Error(`${message.message} (${message.code})`));
        this.pendingActions.delete(message.id);
        return;
      case "reply":
        this.pendingRequests.get(message.id)?.resolve({ detail: message.detail, frames: message.frames, roundTrip: message.roundTrip });
        this.pendingRequests.delete(message.id);
        return;
      case "request-error":
        this.pendingRequests.get(message.id)?.reject(new Error(message.message));
        this.pendingRequests.delete(message.id);
        return;
      case "log":
        this.log[message.level](`[monitor] ${message.message}`);
        return;
      default:
        this.emitter.fire(message);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.failPending("the monitor process exited");
    if (this.disposed) return;
    this.log.error(`monitor child exited (${signal ?? `code ${code}`})`);
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (/No native build was found|Cannot find module 'zeromq'/.test(this.stderrTail)) {
      this.emitter.fire({
        type: "fatal",
        message:
          `ZeroMQ could not be loaded on this platform (${process.platform}-${process.arch}): ` +
          `the extension package carries no matching zeromq prebuild. Install the platform-specific package or set ztb.ztbPath.`,
      });
      return;
    }
    if (this.restarts.length >= MAX_RESTARTS) {
      this.emitter.fire({ type: "fatal", message: `the monitor process keeps exiting (${signal ?? `code ${code}`}); see the log` });
      return;
    }
    this.restarts.push(now);
    this.emitter.fire({ type: "status", status: "disconnected", detail: "monitor process restarted" });
    setTimeout(() => {
      if (this.attachedTo !== undefined && !this.disposed) this.post(attachMessage(this.attachedTo.admin, this.attachedTo.curve));
    }, 500);
  }

  private failPending(reason: string): void {
    for (const p of this.pendingActions.values()) p.reject(new Error(reason));
    for (const p of this.pendingRequests.values()) p.reject(new Error(reason));
    this.pendingActions.clear();
    this.pendingRequests.clear();
  }
}

function attachMessage(admin: string, curve: CurveFiles | undefined): ToChild {
  return curve ? { type: "attach", admin, curve } : { type: "attach", admin };
}
