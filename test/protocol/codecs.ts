/**
 * Which codec functions serve which endpoint and direction, and which schema checks which command's JSON frame —
 * written out here independently of the codec, so the tests check the codec against the spec rather than itself.
 */
import Ajv2020 from "ajv/dist/2020";
import {
  decodeAdmin,
  decodeAdminReply,
  decodeAnswer,
  decodeClient,
  decodeClientReply,
  decodeToWorker,
  decodeWorker,
  encodeAdmin,
  encodeAdminReply,
  encodeAnswer,
  encodeClient,
  encodeClientReply,
  encodeToWorker,
  encodeWorker,
} from "../../broker/src/codec";
import type { MessageBounds } from "../../broker/src/protocol/limits";
import type { Frame } from "../../broker/src/protocol/messages";
import { loadSchemas, type Direction, type Endpoint } from "./vectors";

export interface CodecPair {
  /** `bounds` reaches only the broker-side decoders, which check whole-message bounds (§Limits). */
  decode(frames: Frame[], bounds?: MessageBounds): { type: string };
  encodeDecoded(frames: Frame[]): Frame[];
}

function pair<M extends { type: string }>(decode: (frames: Frame[], bounds?: MessageBounds) => M, encode: (msg: M) => Frame[]): CodecPair {
  return { decode, encodeDecoded: (frames) => encode(decode(frames)) };
}

export const CODECS: Record<string, CodecPair> = {
  "clients/to-broker": pair(decodeClient, encodeClient),
  "clients/from-broker": pair(decodeClientReply, encodeClientReply),
  "workers/to-broker": pair(decodeWorker, encodeWorker),
  "workers/from-broker": pair(decodeToWorker, encodeToWorker),
  "answers/to-broker": pair(decodeAnswer, encodeAnswer),
  "admin/to-broker": pair(decodeAdmin, encodeAdmin),
  "admin/from-broker": pair(decodeAdminReply, encodeAdminReply),
};

export function codecFor(endpoint: Endpoint, direction: Direction): CodecPair {
  const codec = CODECS[`${endpoint}/${direction}`];
  if (codec === undefined) throw new Error(`no codec for ${endpoint} ${direction}`);
  return codec;
}

/** The schema (file name stem) of each command's JSON frame; commands absent here carry no JSON. */
export const JSON_SCHEMA_OF_COMMAND: Record<string, string> = {
  "clients/to-broker/REQUEST": "request-options",
  "clients/to-broker/CANCEL": "client-cancel",
  "clients/from-broker/REPLY": "reply-detail",
  "workers/to-broker/READY": "ready",
  "workers/to-broker/FAIL": "fail",
  "workers/to-broker/DISCONNECT": "disconnect",
  "workers/to-broker/EXTEND": "extend",
  "workers/from-broker/TASK": "task-header",
  "workers/from-broker/DISCONNECT": "disconnect",
  "workers/from-broker/CANCEL": "cancel",
  "admin/to-broker/SNAPSHOT": "snapshot-query",
  "admin/to-broker/SUBSCRIBE": "subscribe",
  "admin/to-broker/INSPECT": "inspect-query",
  "admin/to-broker/CANCEL": "task-action",
  "admin/to-broker/RETRY": "task-action",
  "admin/to-broker/DRAIN": "drain",
  "admin/to-broker/DELETE": "delete",
  "admin/from-broker/SNAPSHOT": "snapshot",
  "admin/from-broker/ACK": "ack",
  "admin/from-broker/ERROR": "error",
  "admin/from-broker/TASK": "task-inspection",
  "admin/from-broker/EVENT": "event",
};

let shared: Ajv2020 | undefined;

/** One Ajv holding every schema file of protocol/schemas, loaded from disk (the codec imports its own copy). */
export function loadAjv(): Ajv2020 {
  if (shared === undefined) {
    shared = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    for (const { schema } of loadSchemas()) shared.addSchema(schema);
  }
  return shared;
}

export const schemaId = (stem: string): string => `https://ztb.dev/schemas/${stem}.json`;
