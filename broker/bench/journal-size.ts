/** Octets of a durable broker's journal on disk: the SQLite file and its write-ahead log (broker/src/store). */
import * as fs from "node:fs";
import * as path from "node:path";
import { JOURNAL_FILE } from "../src/store/sqlite-journal";

export function journalBytes(dir: string): number {
  let bytes = 0;
  for (const file of [JOURNAL_FILE, `${JOURNAL_FILE}-wal`]) {
    try {
      bytes += fs.statSync(path.join(dir, file)).size;
    } catch {
      // No WAL after a checkpoint that emptied it: nothing to add.
    }
  }
  return bytes;
}
