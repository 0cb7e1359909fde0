import * as assert from "node:assert/strict";
import { ERROR_CODES } from "../../broker/src/codec";
import {
  ADMIN_ERROR_CODES,
  CANCEL_REASONS,
  DISCONNECT_REASONS,
  FAILURE_REASONS,
  TASK_STATES,
} from "../../broker/src/protocol/messages";
import { JSON_SCHEMA_OF_COMMAND, loadAjv, schemaId } from "./codecs";
import { loadSchemas } from "./vectors";

type Json = Record<string, unknown>;

function at(stem: string, ...keys: string[]): unknown {
  const found = loadSchemas().find(({ file }) => file === `${stem}.schema.json`);
  assert.ok(found, `protocol/schemas/${stem}.schema.json exists`);
  let node: unknown = found.schema;
  for (const key of keys) node = (node as Json)[key];
  return node;
}

/** Frames a peer sends the broker: strict (additionalProperties false) at every object level. */
const TO_BROKER = ["request-options", "client-cancel", "ready", "fail", "disconnect", "extend",
  "snapshot-query", "subscribe", "inspect-query", "task-action", "drain"];
/** Frames the broker sends: open to members a later broker adds. */
const FROM_BROKER = ["reply-detail", "task-header", "cancel", "snapshot", "ack", "error", "task-inspection", "event",
  "task-view", "worker-view", "counters"];

function objectNodes(node: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(node)) node.forEach((item) => objectNodes(item, out));
  else if (node !== null && typeof node === "object") {
    const object = node as Json;
    if (object.type === "object") out.push(object);
    Object.values(object).forEach((value) => objectNodes(value, out));
  }
  return out;
}

describe("protocol/schemas", () => {
  it("every schema file compiles (draft 2020-12, Ajv strict mode) under an $id named after its file", () => {
    const schemas = loadSchemas();
    assert.ok(schemas.length >= 25, `found ${schemas.length} schema files`);
    const ajv = loadAjv();
    for (const { file, schema } of schemas) {
      assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema", file);
      assert.equal(schema.$id, schemaId(file.replace(/\.schema\.json$/, "")), file);
      assert.equal(typeof ajv.getSchema(schema.$id), "function", file);
    }
  });

  it("every command's JSON frame has a schema", () => {
    const stems = new Set(loadSchemas().map(({ file }) => file.replace(/\.schema\.json$/, "")));
    for (const stem of Object.values(JSON_SCHEMA_OF_COMMAND)) assert.ok(stems.has(stem), stem);
  });

  it("frames a peer sends the broker reject unknown members at every level; broker-sent frames do not", () => {
    for (const stem of TO_BROKER) {
      const objects = objectNodes(at(stem));
      assert.ok(objects.length > 0, stem);
      for (const object of objects) assert.equal(object.additionalProperties, false, `${stem}: ${JSON.stringify(object)}`);
    }
    for (const stem of FROM_BROKER) {
      for (const object of objectNodes(at(stem))) assert.equal(object.additionalProperties, undefined, stem);
    }
  });

  it("an unknown member is a schema error in a request and is accepted in a reply", () => {
    const ajv = loadAjv();
    assert.equal(ajv.validate(schemaId("request-options"), { service: "resize", priority: 1 }), false);
    assert.equal(ajv.validate(schemaId("task-header"), { service: "s", attempt: 1, attempts: null, timeout: null, hint: 1 }), true);
  });

  it("enumerations equal the constants of broker/src/protocol/messages.ts and the codec", () => {
    assert.deepEqual(at("common", "$defs", "failureReason", "enum"), [...FAILURE_REASONS]);
    assert.deepEqual(at("common", "$defs", "taskState", "enum"), [...TASK_STATES]);
    assert.deepEqual(at("disconnect", "properties", "reason", "enum"), [...DISCONNECT_REASONS]);
    assert.deepEqual(at("cancel", "properties", "reason", "enum"), [...CANCEL_REASONS]);
    assert.deepEqual(at("error", "properties", "code", "enum"), [...ADMIN_ERROR_CODES]);
    assert.deepEqual(at("vector", "properties", "error", "enum"), [...ERROR_CODES]);
  });

  it("bounds are the spec's", () => {
    const ajv = loadAjv();
    const ok = (stem: string, value: unknown): boolean => ajv.validate(schemaId(stem), value) as boolean;
    const ready = (patch: Json): Json => ({ name: "w", capacity: 1, heartbeat: 1000, ...patch });
    assert.ok(ok("ready", ready({ name: "n".repeat(64), capacity: 1000, heartbeat: 100 })));
    assert.ok(ok("ready", ready({ services: Array.from({ length: 32 }, (_, i) => `s${i}`), heartbeat: 60000 })));
    assert.ok(!ok("ready", ready({ name: "" })));
    assert.ok(!ok("ready", ready({ services: Array.from({ length: 33 }, (_, i) => `s${i}`) })));
    assert.ok(!ok("ready", ready({ services: ["a", "a"] })));
    assert.ok(!ok("ready", ready({ capacity: 1001 })));
    assert.ok(!ok("ready", ready({ heartbeat: 60001 })));
    assert.ok(ok("fail", { message: "m".repeat(1024), retryable: false }));
    assert.ok(ok("request-options", { id: "i".repeat(128) }));
    assert.ok(ok("extend", { timeout: 1 }) && ok("extend", { timeout: 3600000 }) && !ok("extend", { timeout: 0 }));
    assert.ok(ok("snapshot-query", { tasks: { limit: 1 } }) && ok("snapshot-query", { tasks: { limit: 500 } }));
    assert.ok(!ok("snapshot-query", { tasks: { limit: 0 } }));
    assert.ok(ok("subscribe", { lease: 1000 }) && ok("subscribe", { lease: 60000 }) && !ok("subscribe", { lease: 60001 }));
    assert.ok(!ok("inspect-query", { task: "t".repeat(256) }));
  });

  it("a REPLY detail has a reason exactly when failed, and an error code only with reason malformed", () => {
    const ajv = loadAjv();
    const ok = (value: Json): boolean => ajv.validate(schemaId("reply-detail"), value) as boolean;
    assert.ok(ok({ status: "succeeded", attempts: 1, elapsed: 2 }));
    assert.ok(!ok({ status: "succeeded", reason: "timeout", attempts: 1, elapsed: 2 }));
    assert.ok(!ok({ status: "failed", attempts: 1, elapsed: 2 }));
    assert.ok(!ok({ status: "failed", reason: "timeout", attempts: 1, elapsed: 2, error: "ZTB_ERR_SCHEMA" }));
    assert.ok(ok({ status: "failed", reason: "malformed", attempts: 0, elapsed: 0, error: "ZTB_ERR_SCHEMA" }));
  });
});
