import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ERROR_CODES } from "../../broker/src/codec";
import { PROTOCOL_DIR, loadVectors } from "./vectors";

const cellsOf = (line: string): string[] =>
  line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((cell) => cell.trim().replace(/`/g, ""));

/** The body rows of the first Markdown table in `markdown` whose header row is exactly `header`. */
function table(markdown: string, header: string[]): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex(
    (line) => line.trim().startsWith("|") && cellsOf(line).map((c) => c.toLowerCase()).join("|") === header.join("|"),
  );
  assert.ok(start >= 0, `protocol/spec.md has a table | ${header.join(" | ")} |`);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && (lines[i] ?? "").trim().startsWith("|"); i++) rows.push(cellsOf(lines[i] ?? ""));
  return rows;
}

describe("protocol/spec.md tables agree with the codec and the vectors", () => {
  const spec = fs.readFileSync(path.join(PROTOCOL_DIR, "spec.md"), "utf8");
  const valid = loadVectors("valid");
  const key = (command: string, endpoint: string, direction: string): string => `${command} ${endpoint} ${direction}`;

  it("every command of the spec's command table has a valid vector, and every vector's command is in the table", () => {
    const rows = table(spec, ["command", "endpoint", "direction"]);
    assert.ok(rows.length >= 20, `${rows.length} commands`);
    const specified = new Set<string>();
    for (const [command = "", endpoint = "", direction = ""] of rows) {
      const directions = direction === "both" ? ["to-broker", "from-broker"] : [direction];
      for (const d of directions) {
        assert.ok(["to-broker", "from-broker"].includes(d), `direction ${direction} of ${command}`);
        specified.add(key(command, endpoint, d));
        const found = valid.some((v) => key(v.command, v.endpoint, v.direction) === key(command, endpoint, d));
        assert.ok(found, `no valid vector for ${key(command, endpoint, d)}`);
      }
    }
    // PEER-GONE and PEER-HELLO are libzmq's notifications, not wire commands, so the spec's table leaves them out.
    for (const v of valid.filter((v) => v.command !== "PEER-GONE" && v.command !== "PEER-HELLO")) {
      assert.ok(specified.has(key(v.command, v.endpoint, v.direction)), `${v.name}: not in the spec's table`);
    }
  });

  it("the spec's table of error codes equals ERROR_CODES", () => {
    const codes = table(spec, ["code", "meaning"]).map(([code]) => code);
    assert.deepEqual(codes, [...ERROR_CODES]);
  });

  it("every test vector the spec links to exists", () => {
    const links = [...spec.matchAll(/\]\((examples\/(?:valid|invalid)\/[^)]+\.json)\)/g)].map((m) => m[1] ?? "");
    assert.ok(links.length > 0);
    for (const link of links) assert.ok(fs.existsSync(path.join(PROTOCOL_DIR, link)), link);
  });
});
