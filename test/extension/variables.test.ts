import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { formatRequestBlock, parseRequestDocument, parseRequestFile } from "../../extension/src/requests/request-file";
import { closestWords, editDistance } from "../../extension/src/requests/spelling";
import { environmentNames, environmentValues, VariableScope } from "../../extension/src/requests/variables";

const text = (frames: Uint8Array[] | undefined): string[] => (frames ?? []).map((f) => Buffer.from(f).toString("utf8"));

describe("extension request-file variables", () => {
  it("substitutes file variables in frames, text: and hex: lines and option values", () => {
    const doc = parseRequestDocument(
      ["@svc = echo", "@who = world", "@byte = ff", "### hi {{who}}", "@service {{svc}}", "@attempts {{n}}", "hello {{who}}", "text:#{{ who }}", "hex:00{{byte}}"].join("\n"),
      { n: "4" },
    );
    const [block] = doc.blocks;
    assert.deepEqual(block?.errors, []);
    assert.equal(block?.title, "hi {{who}}", "titles are not substituted");
    assert.deepEqual(block?.options, { service: "echo", attempts: 4 });
    assert.deepEqual(text(block?.frames.slice(0, 2)), ["hello world", "#world"]);
    assert.deepEqual([...(block?.frames[2] ?? [])], [0x00, 0xff]);
    assert.deepEqual(doc.variables.map((v) => [v.name, v.line]), [["svc", 0], ["who", 1], ["byte", 2]]);
  });

  it("a definition anywhere in the file counts for every block, and opens no block itself", () => {
    const blocks = parseRequestFile("### one\nping {{x}}\n\n@x = 1\n### two\npong {{x}}\n");
    assert.equal(blocks.length, 2);
    assert.deepEqual(blocks.map((b) => text(b.frames)), [["ping 1"], ["pong 1"]]);
    assert.deepEqual(parseRequestFile("@x = 1\n").length, 0);
  });

  it("file variables win over the environment, the environment over $shared; values may use other variables", () => {
    const environments = { $shared: { host: "shared", greeting: "hi {{host}}" }, prod: { host: "prod", only: "p" } };
    assert.deepEqual(environmentNames(environments), ["prod"]);
    const env = environmentValues(environments, "prod");
    assert.deepEqual(env, { host: "prod", greeting: "hi {{host}}", only: "p" });
    assert.deepEqual(text(parseRequestFile("###\n{{greeting}} {{only}}\n", env)[0]?.frames), ["hi prod p"]);
    assert.deepEqual(text(parseRequestFile("@host = file\n###\n{{greeting}}\n", env)[0]?.frames), ["hi file"]);
    assert.deepEqual(environmentValues(environments, undefined), environments.$shared);
  });

  it("an unknown variable is an error on its line with the closest names as fixes; nothing is sent", () => {
    const doc = parseRequestDocument("@greeting = hi\n###\ntext:say {{greting}}\n");
    const [error] = doc.blocks[0]?.errors ?? [];
    assert.equal(error?.line, 2);
    assert.match(error?.message ?? "", /unknown variable \{\{greting\}\}/);
    assert.deepEqual(error?.fix, { code: "unknown-variable", column: 11, length: 7, candidates: ["greeting"] });
    assert.equal(doc.blocks[0]?.frames.length, 0);
  });

  it("a cycle and a second definition are errors, not a hang", () => {
    const doc = parseRequestDocument("@a = {{b}}\n@b = {{a}}\n@a = again\n###\n{{a}}\n");
    assert.deepEqual(doc.errors.map((e) => e.line), [2, 0, 1]);
    assert.match(doc.errors[1]?.message ?? "", /refers to itself/);
    assert.match(doc.blocks[0]?.errors[0]?.message ?? "", /refers to itself/);
  });

  it("Show Request writes a frame holding {{…}} as hex, so sending it again sends the same bytes", () => {
    const frame = new TextEncoder().encode("literal {{x}}");
    const block = formatRequestBlock("t", {}, [frame]);
    assert.match(block, /^hex:/m);
    assert.deepEqual(parseRequestFile(block)[0]?.frames, [frame]);
  });

  it("the README's variables example sends what it says with its environments", () => {
    const readme = readFileSync(path.join(__dirname, "../../../extension/README.md"), "utf8");
    const settings = /```json\n([\s\S]*?)```/.exec(readme)?.[1];
    const example = [...readme.matchAll(/```ztb\n([\s\S]*?)```/g)][1]?.[1];
    assert.ok(settings && example, "README has the settings and the example");
    const environments = (JSON.parse(`{${settings}}`) as Record<string, Record<string, Record<string, string>>>)["ztb.environments"] ?? {};
    const [block] = parseRequestFile(example, environmentValues(environments, "local"));
    assert.deepEqual(block?.errors, []);
    assert.deepEqual(block?.options, { service: "echo" });
    assert.deepEqual(text(block?.frames), ["hello world"]);
  });

  it("scope lists file and environment names", () => {
    const scope = new VariableScope([{ name: "b", value: "1", line: 0 }], { a: "2", b: "3" });
    assert.deepEqual(scope.names(), ["a", "b"]);
    assert.deepEqual(scope.substitute("{{b}}{{a}}"), { ok: true, text: "12" });
  });
});

describe("extension quick-fix spelling", () => {
  it("suggests the option a misspelling is closest to", () => {
    const [error] = parseRequestFile("###\n@servce echo\nx\n")[0]?.errors ?? [];
    assert.deepEqual(error?.fix, { code: "unknown-option", column: 1, length: 6, candidates: ["service"] });
    assert.match(error?.message ?? "", /did you mean @service\?/);
    assert.deepEqual(parseRequestFile("###\n@colour red\nx\n")[0]?.errors[0]?.fix?.candidates, []);
  });

  it("counts a swap of two neighbours as one edit and stops beyond the limit", () => {
    assert.equal(editDistance("timeuot", "timeout"), 1);
    assert.equal(editDistance("atempts", "attempts"), 1);
    assert.equal(editDistance("abc", "xyzw", 1), 2);
    assert.deepEqual(closestWords("Service", ["service", "timeout"]), ["service"]);
    assert.deepEqual(closestWords("tmeout", ["service", "timeout", "attempts"]), ["timeout"]);
  });
});
