import * as assert from "node:assert/strict";
import { JSON_SCHEMA_OF_COMMAND, loadAjv, schemaId } from "./codecs";
import { loadVectors, type Vector } from "./vectors";

const valid = loadVectors("valid");
const invalid = loadVectors("invalid");

function jsonFrames(vector: Vector): unknown[] {
  return vector.frames.flatMap((frame) => ("json" in frame ? [frame.json] : []));
}

describe("protocol/examples vector files", () => {
  const ajv = loadAjv();

  it("there are enough of them", () => {
    assert.ok(valid.length >= 40, `${valid.length} valid vectors`);
    assert.ok(invalid.length >= 30, `${invalid.length} invalid vectors`);
  });

  for (const vector of [...valid, ...invalid]) {
    it(`${vector.name} follows vector.schema.json and is named after its endpoint`, () => {
      const ok = ajv.validate(schemaId("vector"), vector.file);
      assert.ok(ok, ajv.errorsText());
      assert.equal((vector.file as Record<string, unknown>).$schema, "../../schemas/vector.schema.json");
      assert.ok(vector.name.split("/")[1]?.startsWith(`${vector.endpoint}-`), vector.name);
      assert.equal(vector.error === undefined, vector.name.startsWith("valid/"));
    });
  }

  for (const vector of valid) {
    it(`${vector.name}: a JSON frame only where ${vector.command} has one, following its schema`, () => {
      const stem = JSON_SCHEMA_OF_COMMAND[`${vector.endpoint}/${vector.direction}/${vector.command}`];
      const frames = jsonFrames(vector);
      if (stem === undefined) {
        assert.deepEqual(frames, [], "commands without JSON spell their payload as text or hex");
        return;
      }
      assert.ok(frames.length <= 1, "one JSON frame per message; payloads are text or hex");
      for (const frame of frames) assert.ok(ajv.validate(schemaId(stem), frame), ajv.errorsText());
    });
  }

  it("every JSON command has a valid vector whose JSON frame is present", () => {
    for (const key of Object.keys(JSON_SCHEMA_OF_COMMAND)) {
      const found = valid.some((v) => `${v.endpoint}/${v.direction}/${v.command}` === key && jsonFrames(v).length === 1);
      assert.ok(found, key);
    }
  });
});
