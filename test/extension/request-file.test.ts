import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  blockAt,
  blockHeaderLines,
  formatError,
  formatFrameLine,
  formatRequestBlock,
  parseRequestFile,
} from "../../extension/src/requests/request-file";

const text = (frames: Uint8Array[]): string[] => frames.map((f) => Buffer.from(f).toString("utf8"));

describe("extension request-file parser", () => {
  it("splits blocks on ###, titles them, ignores comments and blank lines", () => {
    const blocks = parseRequestFile(
      ["# a comment", "", "### Say hello", "hello", "world", "", "###   Second  ", "# not a frame", "two"].join("\n"),
    );
    assert.equal(blocks.length, 2);
    assert.equal(blocks[0]?.title, "Say hello");
    assert.equal(blocks[0]?.headerLine, 2);
    assert.equal(blocks[0]?.endLine, 5);
    assert.deepEqual(text(blocks[0]?.frames ?? []), ["hello", "world"]);
    assert.deepEqual(blocks[0]?.frameLines, [3, 4]);
    assert.equal(blocks[1]?.title, "Second");
    assert.deepEqual(text(blocks[1]?.frames ?? []), ["two"]);
    assert.deepEqual(blocks[1]?.errors, []);
  });

  it("treats content before the first ### as an untitled block", () => {
    const blocks = parseRequestFile("# intro\n@service echo\nping\n### next\npong\n");
    assert.equal(blocks.length, 2);
    assert.equal(blocks[0]?.title, "");
    assert.equal(blocks[0]?.headerLine, 1);
    assert.equal(blocks[0]?.options.service, "echo");
    assert.deepEqual(blocks.map((b) => b.headerLine), blockHeaderLines("# intro\n@service echo\nping\n### next\npong\n"));
  });

  it("reads options: service, timeout in seconds -> ms, attempts", () => {
    const [block] = parseRequestFile("###\n@service resize\n@timeout 2.5\n@attempts 4\nimg\n");
    assert.deepEqual(block?.options, { service: "resize", timeout: 2500, attempts: 4 });
    assert.deepEqual(block?.errors, []);
  });

  it("reads hex frames, text: escapes and keeps spaces in plain lines", () => {
    const [block] = parseRequestFile(
      ["###", "hex:0a0B ff", "hex:", "text:", "text:#not a comment", "text:@service", "text:hex:00", "  padded  ", "a\r"].join("\r\n"),
    );
    const frames = block?.frames ?? [];
    assert.deepEqual([...(frames[0] ?? [])], [0x0a, 0x0b, 0xff]);
    assert.equal(frames[1]?.length, 0);
    assert.equal(frames[2]?.length, 0);
    assert.deepEqual(text(frames.slice(3)), ["#not a comment", "@service", "hex:00", "  padded  ", "a\r"]);
  });

  it("reports errors with line numbers", () => {
    const blocks = parseRequestFile(
      ["### bad", "@service", "@timeout soon", "@attempts 0", "@colour red", "hex:abc", "frame", "@service late", "### empty", "# only a comment"].join("\n"),
    );
    const errors = (blocks[0]?.errors ?? []).map(formatError);
    assert.deepEqual(errors, [
      "line 2: @service needs a name of 1..64 characters without spaces",
      'line 3: @timeout needs seconds > 0, e.g. "@timeout 2.5", not "soon"',
      'line 4: @attempts needs an integer >= 1, not "0"',
      "line 5: unknown option @colour (known: @service, @timeout, @attempts)",
      "line 6: hex: needs an even number of hex digits (0-9, a-f)",
      "line 8: option @service after the first frame (write text:@service late to send it as a frame)",
    ]);
    assert.deepEqual(blocks[1]?.errors.map(formatError), ["line 9: the block has no frames to send"]);
    assert.deepEqual(parseRequestFile("###\n@attempts 1\n@attempts 2\nx").at(0)?.errors.map(formatError), ["line 3: @attempts given twice"]);
  });

  it("finds the block under a line", () => {
    const blocks = parseRequestFile("### a\nx\n\n### b\ny\n");
    assert.equal(blockAt(blocks, 0)?.title, "a");
    assert.equal(blockAt(blocks, 2)?.title, "a");
    assert.equal(blockAt(blocks, 4)?.title, "b");
  });

  it("writes blocks that parse back to the same frames and options", () => {
    const frames = [
      new TextEncoder().encode("hello"),
      new Uint8Array([0, 1, 2, 255]),
      new Uint8Array(0),
      new TextEncoder().encode("#hash"),
      new TextEncoder().encode("@at"),
      new TextEncoder().encode("hex:zz"),
      new TextEncoder().encode("text:x"),
      new TextEncoder().encode("two\nlines"),
      new TextEncoder().encode("   "),
    ];
    const options = { service: "echo", timeout: 1500, attempts: 2 };
    const [block] = parseRequestFile(formatRequestBlock("again", options, frames));
    assert.equal(block?.title, "again");
    assert.deepEqual(block?.options, options);
    assert.deepEqual(block?.frames.map((f) => [...f]), frames.map((f) => [...f]));
    assert.equal(formatFrameLine(new TextEncoder().encode("two\nlines")), "hex:74776f0a6c696e6573");
  });

  it("parses the README's example", () => {
    const readme = readFileSync(path.join(__dirname, "../../../extension/README.md"), "utf8");
    const example = /```ztb\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, "README has a ```ztb example");
    const blocks = parseRequestFile(example);
    assert.ok(blocks.length >= 2);
    for (const block of blocks) assert.deepEqual(block.errors, [], block.title);
  });
});
