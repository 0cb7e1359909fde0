/**
 * `--data DIR`: opens the SQLite journal, loading better-sqlite3 only then, so an in-memory broker (and the VS Code
 * package, which may ship without it) never needs the native module.
 */
import type { FsyncPolicy } from "../protocol/messages";
import type { JournalStore } from "../server/group-commit";

/** The opened journal, or an Error whose message is the one line to print. */
export async function openJournal(dir: string, fsync: FsyncPolicy, maxBytes: number | undefined): Promise<JournalStore | Error> {
  let store: typeof import("../store/sqlite-journal");
  try {
    store = await import("../store/sqlite-journal.js");
  } catch (err) {
    return new Error(`--data needs the better-sqlite3 package, which did not load (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    return store.SqliteJournal.open(dir, maxBytes === undefined ? { fsync } : { fsync, maxBytes });
  } catch (err) {
    if (err instanceof store.JournalError) return err;
    throw err;
  }
}
