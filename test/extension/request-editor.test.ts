import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cliCommand, shellQuote } from "../../extension/src/requests/cli-command";
import { completionsAt, unservedServices } from "../../extension/src/requests/completion";
import { RequestHistory } from "../../extension/src/requests/history";
import { foldingRanges, outline } from "../../extension/src/requests/outline";
import { parseRequestDocument } from "../../extension/src/requests/request-file";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const context = { services: ["echo", "resize"], variables: ["greeting", "host"] };

describe("extension request-file completion", () => {
  it("offers option names after @, live services after @service, variables inside {{", () => {
    assert.deepEqual(completionsAt("@se", 3, context).map((c) => [c.label, c.from, c.insertText]), [
      ["@service", 0, "@service "],
      ["@timeout", 0, "@timeout "],
      ["@attempts", 0, "@attempts "],
    ]);
    assert.deepEqual(completionsAt("@service re", 11, context).map((c) => [c.label, c.from]), [["echo", 9], ["resize", 9]]);
    assert.deepEqual(completionsAt("hello {{gr", 10, context).map((c) => [c.label, c.from, c.insertText]), [
      ["greeting", 8, "greeting}}"],
      ["host", 8, "host}}"],
    ]);
    assert.equal(completionsAt("hello {{gr}}", 10, context)[0]?.insertText, "greeting", "closing braces already there");
    assert.deepEqual(completionsAt("hello {{x}} world", 17, context), [], "after a closed reference: nothing");
    assert.deepEqual(completionsAt("plain frame", 5, context), [], "never inside a frame");
  });

  it("finds the @service lines no live worker serves", () => {
    const text = "### a\n@service echo\nx\n### b\n# c\n@service mail\ny\n### c\nz\n";
    const doc = parseRequestDocument(text);
    assert.deepEqual(unservedServices(text.split("\n"), doc.blocks, new Set(["echo"])), [{ line: 5, service: "mail" }]);
    assert.deepEqual(unservedServices(text.split("\n"), doc.blocks, new Set(["echo", "mail"])), []);
  });
});

describe("extension request history", () => {
  it("keeps sends newest first, moves a repeat to the top, bounds its size", () => {
    const history = new RequestHistory(3);
    for (const n of [1, 2, 3, 4]) history.add({ title: `r${n}`, frames: [bytes(`f${n}`)], options: {}, sentAt: n });
    assert.deepEqual(history.entries().map((e) => e.title), ["r4", "r3", "r2"]);
    history.add({ title: "r2", frames: [bytes("f2")], options: {}, sentAt: 9 });
    assert.deepEqual(history.entries().map((e) => `${e.title}@${e.sentAt}`), ["r2@9", "r4@4", "r3@3"]);
    history.add({ title: "r2", frames: [bytes("other")], options: {}, sentAt: 10 });
    assert.equal(history.entries().length, 3, "same title, other frames: another request");
    assert.equal(history.last()?.sentAt, 10);
  });

  it("round-trips through JSON with binary frames and skips what it cannot read", () => {
    const history = new RequestHistory();
    const entry = history.add({ title: "bin", frames: [new Uint8Array([0, 255, 16])], options: { service: "s", timeout: 2500 }, sentAt: 5 });
    entry.status = "failed";
    const stored = JSON.parse(JSON.stringify(history.toJSON())) as unknown[];
    const restored = RequestHistory.fromJSON([...stored, { title: 3 }, "junk"]);
    assert.equal(restored.entries().length, 1);
    assert.deepEqual(restored.last(), { title: "bin", frames: [new Uint8Array([0, 255, 16])], options: { service: "s", timeout: 2500 }, sentAt: 5, status: "failed" });
    assert.equal(RequestHistory.fromJSON(undefined).entries().length, 0);
  });
});

describe("extension Copy as ztb client send", () => {
  it("quotes frames for a POSIX shell and writes the options as the CLI's flags", () => {
    const result = cliCommand("tcp://127.0.0.1:4161", [bytes("hello"), bytes("it's a test"), bytes("")], { service: "echo", timeout: 2500, attempts: 2 });
    assert.deepEqual(result, { command: `ztb client send --service echo --timeout 2500ms --attempts 2 tcp://127.0.0.1:4161 hello 'it'\\''s a test' ''` });
    assert.equal(shellQuote("$HOME"), `'$HOME'`);
  });

  it("pipes one binary frame (or a lone -) through stdin, refuses two", () => {
    assert.deepEqual(cliCommand("tcp://h:1", [bytes("a"), new Uint8Array([0, 255])], {}), { command: `printf '\\000\\377' | ztb client send tcp://h:1 a -` });
    assert.deepEqual(cliCommand("tcp://h:1", [bytes("-")], {}), { command: `printf '\\055' | ztb client send tcp://h:1 -` });
    assert.ok("error" in cliCommand("tcp://h:1", [new Uint8Array([0]), new Uint8Array([0xff])], {}));
  });

  it("a shell turns the command back into the same argument bytes", function () {
    const frames = [bytes("it's"), bytes("$x `y` \"z\""), bytes(" spaced ")];
    const result = cliCommand("tcp://h:1", frames, {});
    assert.ok("command" in result);
    // Replace the program by one that prints its arguments NUL-separated.
    const script = result.command.replace(/^ztb client send/, `node -e 'process.stdout.write(process.argv.slice(1).join("\\0"))' --`);
    const out = spawnSync("sh", ["-c", script], { encoding: "utf8" });
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(out.stdout.split("\0"), ["tcp://h:1", "it's", "$x `y` \"z\"", " spaced "]);
  });
});

describe("extension request-file outline and folding", () => {
  it("one symbol per block and per variable; folds end at the block's last non-blank line", () => {
    const text = "@host = h\n### one\n@service echo\na\nb\n\n\n### two\nc\n";
    const doc = parseRequestDocument(text);
    assert.deepEqual(outline(text, doc).map((i) => [i.kind, i.name, i.detail, i.startLine, i.endLine]), [
      ["variable", "@host", "h", 0, 0],
      ["block", "one", "echo · 2 frames", 1, 4],
      ["block", "two", "1 frame", 7, 8],
    ]);
    assert.deepEqual(foldingRanges(text, doc), [{ start: 1, end: 4 }, { start: 7, end: 8 }]);
  });
});
