/**
 * The JSON Schemas of protocol/schemas (the one source of truth; imported, never copied), compiled once at load.
 * A frame's validator is picked by command, so every decode costs one precompiled check.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import type {
  AdminEvent,
  AdminErrorCode,
  DisconnectDetail,
  ReadyOptions,
  ReplyDetail,
  RequestOptions,
  Snapshot,
  SnapshotQuery,
  TaskHeader,
  TaskInspection,
  CancelReason,
  DeleteTarget,
} from "../protocol/messages";
import ack from "../../../protocol/schemas/ack.schema.json";
import cancel from "../../../protocol/schemas/cancel.schema.json";
import clientCancel from "../../../protocol/schemas/client-cancel.schema.json";
import common from "../../../protocol/schemas/common.schema.json";
import counters from "../../../protocol/schemas/counters.schema.json";
import deleteQuery from "../../../protocol/schemas/delete.schema.json";
import disconnect from "../../../protocol/schemas/disconnect.schema.json";
import drain from "../../../protocol/schemas/drain.schema.json";
import error from "../../../protocol/schemas/error.schema.json";
import event from "../../../protocol/schemas/event.schema.json";
import extend from "../../../protocol/schemas/extend.schema.json";
import fail from "../../../protocol/schemas/fail.schema.json";
import frameView from "../../../protocol/schemas/frame-view.schema.json";
import inspectQuery from "../../../protocol/schemas/inspect-query.schema.json";
import ready from "../../../protocol/schemas/ready.schema.json";
import replyDetail from "../../../protocol/schemas/reply-detail.schema.json";
import requestOptions from "../../../protocol/schemas/request-options.schema.json";
import snapshotQuery from "../../../protocol/schemas/snapshot-query.schema.json";
import snapshot from "../../../protocol/schemas/snapshot.schema.json";
import subscribe from "../../../protocol/schemas/subscribe.schema.json";
import taskAction from "../../../protocol/schemas/task-action.schema.json";
import taskHeader from "../../../protocol/schemas/task-header.schema.json";
import taskInspection from "../../../protocol/schemas/task-inspection.schema.json";
import taskView from "../../../protocol/schemas/task-view.schema.json";
import workerView from "../../../protocol/schemas/worker-view.schema.json";

export type Validator<T> = ValidateFunction<T>;

// allErrors off: a decoder reports the first violation only, and stops checking there.
const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: false });
ajv.addSchema([
  common, frameView, taskView, workerView, counters,
  requestOptions, clientCancel, replyDetail,
  ready, taskHeader, fail, disconnect, extend, cancel,
  snapshotQuery, subscribe, inspectQuery, taskAction, drain, deleteQuery,
  snapshot, ack, error, taskInspection, event,
]);

function compiled<T>(name: string): Validator<T> {
  const validate = ajv.getSchema<T>(`https://ztb.dev/schemas/${name}.json`);
  if (validate === undefined) throw new Error(`protocol/schemas/${name}.schema.json is not loaded`);
  return validate;
}

export const validators = {
  requestOptions: compiled<RequestOptions>("request-options"),
  clientCancel: compiled<{ id: string }>("client-cancel"),
  replyDetail: compiled<ReplyDetail>("reply-detail"),
  ready: compiled<ReadyOptions>("ready"),
  taskHeader: compiled<TaskHeader>("task-header"),
  fail: compiled<{ message: string; retryable: boolean; returned?: true }>("fail"),
  disconnect: compiled<DisconnectDetail>("disconnect"),
  extend: compiled<{ timeout: number }>("extend"),
  cancel: compiled<{ reason: CancelReason }>("cancel"),
  snapshotQuery: compiled<SnapshotQuery>("snapshot-query"),
  subscribe: compiled<{ lease?: number }>("subscribe"),
  inspectQuery: compiled<{ task: string }>("inspect-query"),
  taskAction: compiled<{ task: string }>("task-action"),
  drain: compiled<{ worker: string; drain?: boolean; retire?: true }>("drain"),
  deleteQuery: compiled<DeleteTarget>("delete"),
  snapshot: compiled<Snapshot>("snapshot"),
  ack: compiled<Record<string, unknown>>("ack"),
  error: compiled<{ code: AdminErrorCode; message: string }>("error"),
  taskInspection: compiled<TaskInspection>("task-inspection"),
  event: compiled<AdminEvent>("event"),
} as const;
