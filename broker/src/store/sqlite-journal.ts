/**
 * The durable journal of `ztb broker --data DIR` (protocol/spec.md §Durability): one SQLite database in WAL mode,
 * `DIR/ztb-journal.sqlite`, holding every task the core has accepted and not yet forgotten, the id prefix and the
 * counters. The core decides what to write (journal records); this file only stores and reads them back.
 *
 * - One transaction per `commit` call: the shell calls it once per event-loop turn with that turn's records (group
 *   commit), so the cost of an fsync is shared by everything that happened in the turn.
 * - `--fsync` maps onto SQLite's `synchronous`: always = FULL (the WAL is fsynced at every commit), batch = NORMAL
 *   (fsynced at checkpoints; a commit survives a process crash, not an OS crash), off = OFF.
 * - locking_mode EXCLUSIVE plus a write at open: the lock is held for the life of the process and released by the OS
 *   when it dies, so a second broker pointed at the same directory is refused at once and can never write to it.
 */
import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ClientRecord, JournalRecord, RecoveredState, TaskRecord } from "../core/journal";
import { FAILURE_REASONS, TASK_STATES, type Counters, type FsyncPolicy } from "../protocol/messages";
import { blobToClient, blobToClients, clientToBlob, clientsToBlob } from "./client-blob";
import { blobToFrames, framesToBlob } from "./frames-blob";

export const JOURNAL_FILE = "ztb-journal.sqlite";
const FORMAT = "ztb-journal";
const SCHEMA_VERSION = "1";

const SYNCHRONOUS: Record<FsyncPolicy, string> = { always: "FULL", batch: "NORMAL", off: "OFF" };

export type JournalErrorCode = "in-use" | "not-a-journal" | "newer-format" | "cannot-open" | "read-only" | "full" | "io";

/** A journal failure, with the one line the CLI prints (`message`) and the SQLite error as `cause`. */
export class JournalError extends Error {
  override name = "JournalError";
  constructor(
    readonly code: JournalErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface JournalOptions {
  fsync: FsyncPolicy;
  /** Refuse commits that would grow the database beyond this many octets (SQLITE_FULL), like a full disk. */
  maxBytes?: number;
}

interface TaskRow {
  seq: number;
  service: string;
  origin: string;
  key: string | null;
  client: Buffer | null;
  waiters: Buffer | null;
  payload: Buffer;
  max_attempts: number | null;
  timeout: number | null;
  created_at: number;
  state: string;
  attempts: number;
  finished_at: number | null;
  reason: string | null;
  message: string | null;
  worker: string | null;
  reply: Buffer | null;
  kept_until: number | null;
}

/** The columns of TaskRow, in the order `read` selects them. */
const TASK_COLUMNS = [
  "seq", "service", "origin", "key", "client", "waiters", "payload", "max_attempts", "timeout", "created_at", "state",
  "attempts", "finished_at", "reason", "message", "worker", "reply", "kept_until",
] as const satisfies readonly (keyof TaskRow)[];

/** A raw row (values in TASK_COLUMNS order) as a TaskRow: one literal, so every row shares one hidden class. */
function taskRow(v: unknown[]): TaskRow {
  return {
    seq: v[0], service: v[1], origin: v[2], key: v[3], client: v[4], waiters: v[5], payload: v[6], max_attempts: v[7],
    timeout: v[8], created_at: v[9], state: v[10], attempts: v[11], finished_at: v[12], reason: v[13], message: v[14],
    worker: v[15], reply: v[16], kept_until: v[17],
  } as TaskRow;
}

const CREATE = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tasks (
  seq INTEGER PRIMARY KEY,
  service TEXT NOT NULL,
  origin TEXT NOT NULL,
  key TEXT,
  client BLOB,
  waiters BLOB,
  payload BLOB NOT NULL,
  max_attempts INTEGER,
  timeout INTEGER,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  finished_at INTEGER,
  reason TEXT,
  message TEXT,
  worker TEXT,
  reply BLOB,
  kept_until INTEGER
);`;

function sqliteCode(err: unknown): string {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : "";
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Maps a SQLite failure to what it means for the operator of `--data DIR`. */
function journalError(err: unknown, dir: string, doing: string): JournalError {
  const code = sqliteCode(err);
  const where = `the journal in ${dir}`;
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
    return new JournalError("in-use", `${dir} is in use by another ztb broker (its journal is locked)`, { cause: err });
  }
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new JournalError("not-a-journal", `${path.join(dir, JOURNAL_FILE)} is not a ztb journal (${describe(err)})`, { cause: err });
  }
  if (code === "SQLITE_READONLY" || code.startsWith("SQLITE_READONLY")) {
    return new JournalError("read-only", `cannot ${doing} ${where}: the directory or file is read-only`, { cause: err });
  }
  if (code === "SQLITE_FULL") {
    return new JournalError("full", `cannot ${doing} ${where}: the disk or the journal's size limit is full`, { cause: err });
  }
  if (code === "SQLITE_CANTOPEN" || code.startsWith("SQLITE_CANTOPEN")) {
    return new JournalError("cannot-open", `cannot open ${where} (${describe(err)})`, { cause: err });
  }
  return new JournalError("io", `cannot ${doing} ${where} (${code || "error"}: ${describe(err)})`, { cause: err });
}

/** `<boot-nonce>` of task ids in durable mode: chosen once when the journal is created, so ids survive restarts. */
function newPrefix(): string {
  return randomBytes(4).readUInt32BE(0).toString(36).padStart(7, "0");
}

export class SqliteJournal {
  /** The task id prefix stored in the journal. */
  readonly prefix: string;
  private readonly db: Database.Database;
  private readonly statements: {
    accept: Database.Statement;
    dispatch: Database.Statement;
    waiters: Database.Statement;
    finish: Database.Statement;
    forget: Database.Statement;
    counters: Database.Statement;
  };
  private readonly writeBatch: (records: readonly JournalRecord[]) => void;
  private commits = 0;

  private constructor(
    readonly dir: string,
    db: Database.Database,
  ) {
    this.db = db;
    this.prefix = this.meta("prefix") ?? "";
    this.statements = {
      accept: db.prepare(
        `INSERT INTO tasks (seq, service, origin, key, client, waiters, payload, max_attempts, timeout, created_at, state, attempts)
         VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)`,
      ),
      dispatch: db.prepare(`UPDATE tasks SET state = 'running', attempts = ? WHERE seq = ?`),
      waiters: db.prepare(`UPDATE tasks SET waiters = ? WHERE seq = ?`),
      finish: db.prepare(
        `UPDATE tasks SET state = ?, attempts = ?, finished_at = ?, reason = ?, message = ?, worker = ?, reply = ?,
         kept_until = ? WHERE seq = ?`,
      ),
      forget: db.prepare(`DELETE FROM tasks WHERE seq = ?`),
      counters: db.prepare(`INSERT INTO meta (key, value) VALUES ('counters', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
    };
    this.writeBatch = db.transaction((records: readonly JournalRecord[]) => {
      let counters: Counters | undefined;
      for (const record of records) {
        if (record.op === "counters") counters = record.counters;
        else this.write(record);
      }
      if (counters !== undefined) this.statements.counters.run(JSON.stringify(counters));
    });
  }

  /**
   * Opens (or creates) the journal in `dir`, takes its lock, and checks that it is a ztb journal this version reads.
   * Every failure is a `JournalError` whose message is one line for the operator.
   */
  static open(dir: string, options: JournalOptions): SqliteJournal {
    const file = path.join(dir, JOURNAL_FILE);
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new JournalError("cannot-open", `cannot create the data directory ${dir} (${describe(err)})`, { cause: err });
    }
    let db: Database.Database;
    try {
      // timeout 0: a locked journal is refused at once, not after better-sqlite3's default 5 s busy wait.
      db = new Database(file, { timeout: 0 });
    } catch (err) {
      throw journalError(err, dir, "open");
    }
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") throw new JournalError("io", `cannot put the journal in ${dir} in WAL mode (got ${String(mode)})`);
      db.pragma(`synchronous = ${SYNCHRONOUS[options.fsync]}`);
      const foreign = SqliteJournal.foreignTables(db);
      if (foreign.length > 0) {
        throw new JournalError("not-a-journal", `${file} is not a ztb journal (it holds tables ${foreign.join(", ")})`);
      }
      db.exec(CREATE);
      SqliteJournal.stamp(db, file);
      if (options.maxBytes !== undefined) {
        const pageSize = Number(db.pragma("page_size", { simple: true }));
        db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
      }
    } catch (err) {
      db.close();
      if (err instanceof JournalError) throw err;
      throw journalError(err, dir, "open");
    }
    return new SqliteJournal(dir, db);
  }

  /** Tables that no ztb journal has: someone else's database. */
  private static foreignTables(db: Database.Database): string[] {
    const rows = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
    return rows.map((row) => row.name).filter((name) => name !== "meta" && name !== "tasks");
  }

  /** Writes the format stamp and prefix of a new journal, or checks those of an existing one (a write: it takes the lock). */
  private static stamp(db: Database.Database, file: string): void {
    const read = (key: string): string | undefined =>
      (db.prepare(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: string } | undefined)?.value;
    db.transaction(() => {
      const format = read("format");
      if (format === undefined) {
        const tasks = db.prepare(`SELECT count(*) AS n FROM tasks`).get() as { n: number };
        if (tasks.n > 0) throw new JournalError("not-a-journal", `${file} is not a ztb journal (no format stamp)`);
        const insert = db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?)`);
        insert.run("format", FORMAT);
        insert.run("version", SCHEMA_VERSION);
        insert.run("prefix", newPrefix());
      } else if (format !== FORMAT) {
        throw new JournalError("not-a-journal", `${file} is not a ztb journal (format "${format}")`);
      } else if (read("version") !== SCHEMA_VERSION) {
        throw new JournalError("newer-format", `${file} was written by another ztb version (journal format ${read("version") ?? "?"}, this broker reads ${SCHEMA_VERSION})`);
      }
      db.prepare(`INSERT INTO meta (key, value) VALUES ('opened', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(
        String(process.pid),
      );
    }).immediate();
  }

  private meta(key: string): string | undefined {
    return (this.db.prepare(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: string } | undefined)?.value;
  }

  /** Everything the journal holds, for the core's `recover` input. */
  read(): RecoveredState {
    try {
      // Rows as arrays (raw): building 100 000 row objects was 40 % of a recovery's read time.
      const rows = (this.db.prepare(`SELECT ${TASK_COLUMNS.join(", ")} FROM tasks ORDER BY seq`).raw(true).all() as unknown[][]).map(taskRow);
      const counters = this.meta("counters");
      return { tasks: rows.map(taskFromRow), counters: counters === undefined ? undefined : (JSON.parse(counters) as Counters) };
    } catch (err) {
      if (err instanceof RangeError || err instanceof SyntaxError) {
        throw new JournalError("not-a-journal", `${path.join(this.dir, JOURNAL_FILE)} holds a record this broker cannot read (${err.message})`, { cause: err });
      }
      throw journalError(err, this.dir, "read");
    }
  }

  /** Writes `records` in one transaction; throws a JournalError (and writes nothing) when it cannot. */
  commit(records: readonly JournalRecord[]): void {
    if (records.length === 0) return;
    try {
      this.writeBatch(records);
    } catch (err) {
      throw journalError(err, this.dir, "write");
    }
    this.commits++;
  }

  /** Transactions committed since open. */
  get commitCount(): number {
    return this.commits;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private write(record: Exclude<JournalRecord, { op: "counters" }>): void {
    const s = this.statements;
    switch (record.op) {
      case "accept": {
        const t = record.task;
        s.accept.run(
          t.seq, t.service, t.origin, t.key ?? null, t.client === undefined ? null : clientToBlob(t.client),
          framesToBlob(t.payload), t.maxAttempts, t.timeout, t.createdAt, t.state, t.attempts,
        );
        return;
      }
      case "dispatch":
        s.dispatch.run(record.attempts, record.seq);
        return;
      case "waiters":
        s.waiters.run(clientsToBlob(record.waiters), record.seq);
        return;
      case "finish": {
        const f = record.finish;
        s.finish.run(
          f.state, f.attempts, f.finishedAt, f.reason ?? null, f.message ?? null, f.worker ?? null,
          f.reply === undefined ? null : framesToBlob(f.reply), f.keptUntil ?? null, f.seq,
        );
        return;
      }
      case "forget":
        s.forget.run(record.seq);
        return;
      default:
        return record satisfies never;
    }
  }
}

const ORIGINS = ["plain", "enveloped", "admin"] as const;

function taskFromRow(row: TaskRow): TaskRecord {
  const origin = ORIGINS.find((o) => o === row.origin);
  const state = TASK_STATES.find((s) => s === row.state);
  if (origin === undefined || state === undefined) throw new RangeError(`task ${row.seq} has origin "${row.origin}" and state "${row.state}"`);
  const record: { -readonly [K in keyof TaskRecord]: TaskRecord[K] } = {
    seq: row.seq,
    service: row.service,
    origin,
    payload: blobToFrames(row.payload),
    maxAttempts: row.max_attempts,
    timeout: row.timeout,
    createdAt: row.created_at,
    state,
    attempts: row.attempts,
  };
  if (row.key !== null) record.key = row.key;
  if (row.client !== null) record.client = blobToClient(row.client);
  if (row.waiters !== null) record.waiters = blobToClients(row.waiters);
  if (row.finished_at !== null) record.finishedAt = row.finished_at;
  if (row.reason !== null) {
    const reason = FAILURE_REASONS.find((r) => r === row.reason);
    if (reason === undefined) throw new RangeError(`task ${row.seq} has failure reason "${row.reason}"`);
    record.reason = reason;
  }
  if (row.message !== null) record.message = row.message;
  if (row.worker !== null) record.worker = row.worker;
  if (row.reply !== null) record.reply = blobToFrames(row.reply);
  if (row.kept_until !== null) record.keptUntil = row.kept_until;
  return record;
}

export type { ClientRecord };
