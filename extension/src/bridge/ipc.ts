/**
 * Messages between the extension host and the monitor child (bridge/monitor-child.ts) over Node IPC. The child is
 * the only process of the extension that loads zeromq; everything crosses this boundary as JSON, binary frames as
 * base64 (IPC uses JSON serialization, which would turn a Uint8Array into an object of indexes).
 */
import type {
  AdminEvent,
  BrokerInfo,
  DeleteTarget,
  FrameView,
  ReplyDetail,
  Snapshot,
  TaskInspection,
  TaskState,
  TaskView,
} from "../../../broker/src/protocol/messages";

export type AdminAction =
  | { kind: "inspect"; task: string }
  | { kind: "cancel"; task: string }
  | { kind: "retry"; task: string }
  | { kind: "drain"; worker: string; drain: boolean }
  /** §Admin DELETE (ZTB/1.1): one finished task, or every failed task (of one service). */
  | { kind: "delete"; target: DeleteTarget }
  /** A page of tasks for "Load more…" (§Admin SNAPSHOT tasks query). */
  | { kind: "page"; state: TaskState; offset: number; limit: number }
  /** SNAPSHOT `broker` alone (a one-task SNAPSHOT): what changes without an EVENT, such as memory and connections. */
  | { kind: "broker" };

export type ActionResult =
  | { kind: "inspect"; inspection: TaskInspection }
  | { kind: "ack"; body: Record<string, unknown> }
  | { kind: "page"; total: number; tasks: TaskView[] }
  /** `time`: the broker's clock when it answered (SNAPSHOT `time`). */
  | { kind: "broker"; broker: BrokerInfo; time: number };

/**
 * CURVE key sources (protocol/spec.md §Security): paths, or the broker's Z85 public key, never a secret key. The child
 * reads the files itself (bridge/curve-keys.ts), so secret keys cross neither this channel nor a command line.
 */
export interface CurveFiles {
  /** The extension's secret certificate (NAME.key_secret from `ztb keygen`), like `--curve-key`. */
  certificate: string;
  /** The broker's public key: a certificate file or the Z85 key, like `--server-key`. */
  serverKey: string;
  /** The setting `serverKey` came from, for error messages. */
  serverKeySetting: string;
}

/** Why a CURVE connection cannot work (bridge/curve-diagnosis.ts). */
export type CurveCause = "certificate" | "refused" | "server-key" | "not-curve" | "needs-curve" | "silent";

export interface RequestSpec {
  /** Clients endpoint to send to. */
  endpoint: string;
  /** CURVE to the clients endpoint; absent = plain. */
  curve?: CurveFiles;
  /** Frames, base64. */
  frames: string[];
  service?: string;
  timeout?: number;
  attempts?: number;
  /** REQUEST `deadline` in ms (the `ztb.requestDeadline` setting). */
  deadline?: number;
}

/** Extension -> child. */
export type ToChild =
  | { type: "attach"; admin: string; curve?: CurveFiles }
  | { type: "detach" }
  /** Take a new SNAPSHOT now (manual refresh, or the extension saw a seq gap). */
  | { type: "resnapshot" }
  | { type: "action"; id: number; action: AdminAction }
  | { type: "request"; id: number; spec: RequestSpec }
  | { type: "cancel-request"; id: number };

export type MonitorStatus = "connecting" | "connected" | "disconnected";

/** Child -> extension. */
export type FromChild =
  | { type: "ready"; zeromq: string }
  /** zeromq could not be loaded (e.g. no prebuilt binary for this platform): nothing ZeroMQ works. */
  | { type: "fatal"; message: string }
  | { type: "status"; status: MonitorStatus; detail?: string }
  /** The admin connection cannot work as configured (bad certificate, refused key…); once per attach and cause. */
  | { type: "curve-error"; cause: CurveCause; message: string }
  | { type: "snapshot"; snapshot: Snapshot }
  | { type: "event"; event: AdminEvent }
  | { type: "action-result"; id: number; result: ActionResult }
  | { type: "action-error"; id: number; code: string; message: string }
  | { type: "reply"; id: number; detail: ReplyDetail; frames: FrameView[]; roundTrip: number }
  | { type: "request-error"; id: number; message: string }
  | { type: "log"; level: "trace" | "info" | "warn" | "error"; message: string };
