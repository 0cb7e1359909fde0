/**
 * The extension's one broker connection: the state machine behind `ztb.state` (api.ts ConnectionState), the broker
 * child it may own, and the model fed by the monitor bridge.
 *
 *   stopped --start--> starting --snapshot--> running      (own broker child)
 *   stopped --attach-> starting --snapshot--> attached     (someone else's broker)
 *   running/attached --no answer--> disconnected --snapshot--> running/attached
 *   starting/running/disconnected --own child exits--> error (notification with its last log line)
 *   any --stop/detach--> stopped
 *
 * CURVE (broker/curve.ts): the connection's key files go to the monitor child with the attach. A `curve-error` from the
 * child fails a pending start or attach at once with its one-line message (shown once otherwise); an unreadable
 * certificate ends the connection (nothing can connect with it), the other causes keep it trying, since the broker's
 * allow-lists can be fixed and re-read (SIGHUP) while the monitor retries.
 *
 * Load shedding (--max-memory): the broker's memory and connections are read again every BROKER_INFO_MS, since no
 * EVENT carries them, and a warning says when the broker starts refusing requests, once per episode.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import type { BrokerInfo } from "../../../broker/src/protocol/messages";
import type { ConnectionState } from "../api";
import type { MonitorBridge } from "../bridge/monitor-bridge";
import type { CurveFiles, FromChild } from "../bridge/ipc";
import { BrokerModel, fullChange, type ModelChange } from "../model/broker-model";
import { connectionsOf, memoryOf, mib, sheddingChange, sheddingWarning } from "../model/broker-resources";
import { readSettings } from "../settings";
import { ZtbChild, type ChildExit } from "./child-process";
import { attachCurve, ownBrokerCurve } from "./curve";
import { brokerArgs, connectAddress, ztbLaunch } from "./launch";

const START_TIMEOUT_MS = 20_000;
const SHOW_LOG = "Show Broker Log";
/** How often the broker's info is read again while it reports memory or connections (refreshBrokerInfo). */
const BROKER_INFO_MS = 2000;

export class BrokerSession implements vscode.Disposable {
  readonly model: BrokerModel;
  private current: ConnectionState = "stopped";
  private child: ZtbChild | undefined;
  private adminEndpoint: string | undefined;
  private curveFiles: CurveFiles | undefined;
  /** Rejects the pending start() or attach(), if any. */
  private failStart: ((error: Error) => void) | undefined;
  private error: string | undefined;
  private lastUpdate = 0;
  /** Counts connections made and ended, so an answer for an earlier one is recognised and dropped. */
  private connection = 0;
  private brokerInfoAsked = false;
  /** Closes the "broker stopped" notification, while one is shown. */
  private closeFailure: (() => void) | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<ConnectionState>();
  private readonly modelEmitter = new vscode.EventEmitter<ModelChange>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires on every state transition. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires on every model update (not debounced; the refresh manager debounces). */
  readonly onDidChangeModel = this.modelEmitter.event;

  constructor(
    private readonly bridge: MonitorBridge,
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.model = new BrokerModel(readSettings().historySize);
    this.disposables.push(bridge.onMessage((m) => this.onBridge(m)));
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("ztb.historySize")) this.modelEmitter.fire(this.model.setHistorySize(readSettings().historySize));
      }),
    );
    const refresh = setInterval(() => this.refreshBrokerInfo(), BROKER_INFO_MS);
    this.disposables.push({ dispose: () => clearInterval(refresh) });
  }

  get state(): ConnectionState {
    return this.current;
  }
  get owned(): boolean {
    return this.child?.running === true;
  }
  get admin(): string | undefined {
    return this.adminEndpoint;
  }
  get lastError(): string | undefined {
    return this.error;
  }
  /** The key files of the current connection (also for requests and test workers); undefined = plain. */
  get curve(): CurveFiles | undefined {
    return this.curveFiles;
  }
  get hasBroker(): boolean {
    return this.current === "starting" || this.current === "running" || this.current === "attached" || this.current === "disconnected";
  }
  /** ms timestamp of the last snapshot or event (for the refresh manager's polling fallback). */
  get lastUpdateAt(): number {
    return this.lastUpdate;
  }

  /** The clients endpoint requests go to: the one the broker reports, else the setting. */
  clientsEndpoint(): string {
    return connectAddress(this.model.broker()?.endpoints.clients ?? readSettings().clients);
  }
  workersEndpoints(): { workers: string; answers: string } {
    const info = this.model.broker();
    const s = readSettings();
    return { workers: connectAddress(info?.endpoints.workers ?? s.workers), answers: connectAddress(info?.endpoints.answers ?? s.answers) };
  }

  /** Starts `ztb broker` from the settings; resolves when its first snapshot arrived, rejects when it failed. */
  async start(): Promise<void> {
    if (this.hasBroker) throw new Error(`a broker is already ${this.current === "attached" ? "attached" : "running"}`);
    const settings = readSettings();
    const curve = ownBrokerCurve(settings.curve);
    const cli = path.join(this.extensionPath, "out", "broker", "src", "cli", "main.js");
    const launch = ztbLaunch(process.execPath, cli, settings.ztbPath, brokerArgs(settings, curve?.args));
    this.log.info(`starting: ${launch.command} ${launch.args.join(" ")}`);
    this.error = undefined;
    const child = new ZtbChild(launch, "broker", this.log, (id) => this.model.workerName(id));
    this.child = child;
    void child.exit.then((exit) => this.onChildExit(child, exit));
    this.connect(connectAddress(settings.admin), curve?.files);
    await this.waitForStart();
  }

  /** Clear Finished Tasks (the model keeps them out from now on; the broker keeps them). */
  clearFinished(): void {
    this.modelEmitter.fire(this.model.clearFinished());
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.disconnect();
    if (child) await child.stop();
    this.child = undefined;
    this.setState("stopped");
  }

  /** Monitors a broker someone else started; resolves at its first snapshot (or keeps trying, state disconnected). */
  async attach(admin: string): Promise<void> {
    if (this.hasBroker) throw new Error("detach or stop the current broker first");
    const curve = attachCurve(readSettings().curve);
    this.error = undefined;
    this.connect(connectAddress(admin), curve);
    await this.waitForStart();
  }

  detach(): void {
    if (this.owned) return;
    this.disconnect();
    this.setState("stopped");
  }

  dispose(): void {
    this.bridge.detach();
    void this.child?.stop(1000);
    this.child = undefined;
    for (const d of this.disposables) d.dispose();
    this.stateEmitter.dispose();
    this.modelEmitter.dispose();
  }

  /** Stops the owned broker; for deactivate(), which VS Code waits for. */
  async shutdown(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await child.stop(1500);
  }

  private connect(admin: string, curve: CurveFiles | undefined): void {
    this.connection++;
    this.adminEndpoint = admin;
    this.curveFiles = curve;
    this.setState("starting");
    this.bridge.attach(admin, curve);
  }

  private disconnect(): void {
    this.connection++;
    this.bridge.detach();
    this.adminEndpoint = undefined;
    this.curveFiles = undefined;
    this.modelEmitter.fire(this.model.clear());
  }

  private waitForStart(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        sub.dispose();
        this.failStart = undefined;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no snapshot from ${this.adminEndpoint ?? "the admin endpoint"} within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      const settle = (state: ConnectionState): void => {
        if (state === "running" || state === "attached") {
          done();
          resolve();
        } else if (state === "error" || state === "stopped") {
          done();
          reject(new Error(this.error ?? `the broker ${state === "error" ? "failed" : "stopped"}`));
        }
      };
      const sub = this.onDidChangeState(settle);
      this.failStart = (error) => {
        done();
        reject(error);
      };
    });
  }

  private onBridge(message: FromChild): void {
    switch (message.type) {
      case "snapshot": {
        if (!this.hasBroker) return;
        this.lastUpdate = Date.now();
        const before = this.model.broker();
        this.modelEmitter.fire(this.model.applySnapshot(message.snapshot));
        this.setState(this.child ? "running" : "attached");
        this.noticeShedding(before);
        return;
      }
      case "event": {
        if (!this.hasBroker) return;
        this.lastUpdate = Date.now();
        const result = this.model.applyEvent(message.event);
        if (result.kind === "applied") this.modelEmitter.fire(result.change);
        else if (result.kind === "gap") this.bridge.resnapshot();
        return;
      }
      case "status":
        if (message.status === "disconnected" && this.hasBroker) this.setState("disconnected");
        return;
      case "curve-error":
        this.onCurveError(message.cause, message.message);
        return;
      case "fatal":
        this.error = message.message;
        void vscode.window.showErrorMessage(`ZeroMQ Broker: ${message.message}`);
        if (this.hasBroker && !this.child) this.setState("error");
        return;
      default:
        return;
    }
  }

  /**
   * SNAPSHOT `broker` is the only news of memory, load shedding and connections: EVENTs do not carry it, and the
   * monitor snapshots again only after a gap or a quiet spell — never under a steady load, which is when a broker
   * sheds. So while the broker reports either, a one-task SNAPSHOT on the actions socket reads it again.
   */
  private refreshBrokerInfo(): void {
    const info = this.model.broker();
    if (this.brokerInfoAsked || (this.current !== "running" && this.current !== "attached") || info === undefined) return;
    if (memoryOf(info) === undefined && connectionsOf(info) === undefined) return;
    const connection = this.connection;
    this.brokerInfoAsked = true;
    void this.bridge
      .action({ kind: "broker" })
      .then(
        (result) => {
          if (connection !== this.connection || result.kind !== "broker") return;
          const before = this.model.broker();
          const change = this.model.applyBrokerInfo(result.broker, result.time);
          if (change.broker) this.modelEmitter.fire(change);
          this.noticeShedding(before);
        },
        // The monitor reports a broker that stopped answering; one missed reading is not news.
        (error: unknown) => this.log.debug(`broker info not read again: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => {
        this.brokerInfoAsked = false;
      });
  }

  /**
   * Load shedding (--max-memory) makes the broker refuse requests with queue-full, which a person sending them would
   * otherwise take for a full queue: say so once per episode, not at every snapshot, and log when it ends.
   */
  private noticeShedding(before: BrokerInfo | undefined): void {
    const change = sheddingChange(before, this.model.broker());
    if (!change) return;
    const { memory } = change;
    if (change.kind === "ended") {
      this.log.info(`load shedding ended: resident memory ${mib(memory.rss)} of ${mib(memory.budget)}`);
      return;
    }
    const text = sheddingWarning(memory);
    this.log.warn(`${text} (resident memory ${mib(memory.rss)})`);
    void vscode.window.showWarningMessage(text, SHOW_LOG).then((choice) => {
      if (choice === SHOW_LOG) void vscode.commands.executeCommand("ztb.showLog");
    });
  }

  private onCurveError(cause: Extract<FromChild, { type: "curve-error" }>["cause"], message: string): void {
    if (!this.hasBroker) return;
    this.error = message;
    this.log.error(message);
    const failStart = this.failStart;
    if (cause === "certificate") {
      // The key cannot be read: retrying cannot help, and a broker the extension cannot see should not run unseen.
      if (this.child) void this.stop();
      else {
        this.disconnect();
        this.setState("error");
      }
    }
    if (failStart) failStart(new Error(message));
    else void vscode.window.showErrorMessage(`ZeroMQ Broker: ${message}`);
  }

  private onChildExit(child: ZtbChild, exit: ChildExit): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (exit.expected) return;
    const why = exit.lastError ?? `exited with ${exit.signal ?? `code ${exit.code}`}`;
    this.error = why;
    this.disconnect();
    this.setState("error");
    this.showFailure(`ZeroMQ Broker stopped: ${why}`);
  }

  /**
   * The notification that the broker stopped stays only while that is true: a successful (re)start closes it, where a
   * plain error message would stay on screen, contradicting the running broker. The extension API cannot close a
   * message; a notification of `withProgress` closes when its promise settles, so the failure is shown as one: Show Log
   * and Start Broker as links in its text, Cancel to dismiss it, and a progress of 0 % so no bar runs under it.
   */
  private showFailure(text: string): void {
    this.closeFailure?.();
    const closed = new Promise<void>((resolve) => (this.closeFailure = resolve));
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `${text} — [Show Log](command:ztb.showLog) · [Start Broker](command:ztb.startBroker)`,
        cancellable: true,
      },
      (progress, token) => {
        progress.report({ increment: 0 });
        return Promise.race([closed, new Promise<void>((resolve) => token.onCancellationRequested(() => resolve()))]);
      },
    );
  }

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    if (state === "running" || state === "attached") {
      this.closeFailure?.();
      this.closeFailure = undefined;
    }
    this.log.info(`state ${this.current} -> ${state}`);
    this.current = state;
    this.stateEmitter.fire(state);
    this.modelEmitter.fire(fullChange());
  }
}
