/**
 * What the durable broker's journal held at the end of a broker-kill chaos run: every task it accepted (the run gives
 * the broker a history large enough that none is forgotten), by the tag in its first payload frame. Read with
 * better-sqlite3 once the last broker has exited and released its exclusive lock; read-only, so the audit cannot
 * change what it audits. The journal's schema is the store's (broker/src/store/sqlite-journal.ts).
 */
import Database from "better-sqlite3";
import * as path from "node:path";
import { JOURNAL_FILE } from "../../broker/src/store/sqlite-journal";
import { blobToFrames } from "../../broker/src/store/frames-blob";

export interface JournalTask {
  /** The task id (`<prefix>-<seq in base 36>`), as replies and SNAPSHOT show it. */
  id: string;
  state: string;
  attempts: number;
  key: string | null;
  /** ms since the epoch, for a finished task. */
  finishedAt: number | null;
}

export interface JournalAudit {
  /** Tasks by the tag of their first payload frame. */
  byTag: Map<string, JournalTask[]>;
  tasks: number;
}

interface Row {
  seq: number;
  key: string | null;
  payload: Buffer;
  state: string;
  attempts: number;
  finished_at: number | null;
}

export function auditJournal(dir: string): JournalAudit {
  const db = new Database(path.join(dir, JOURNAL_FILE), { readonly: true, fileMustExist: true });
  try {
    const prefix = (db.prepare(`SELECT value FROM meta WHERE key = 'prefix'`).get() as { value: string } | undefined)?.value ?? "";
    const byTag = new Map<string, JournalTask[]>();
    const rows = db.prepare(`SELECT seq, key, payload, state, attempts, finished_at FROM tasks ORDER BY seq`).all() as Row[];
    for (const row of rows) {
      const tag = Buffer.from(blobToFrames(row.payload)[0] ?? []).toString("utf8");
      const task: JournalTask = { id: `${prefix}-${row.seq.toString(36)}`, state: row.state, attempts: row.attempts, key: row.key, finishedAt: row.finished_at };
      const list = byTag.get(tag);
      if (list === undefined) byTag.set(tag, [task]);
      else list.push(task);
    }
    return { byTag, tasks: rows.length };
  } finally {
    db.close();
  }
}
