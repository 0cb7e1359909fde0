/**
 * The ordering rule of durable mode (protocol/spec.md §Durability), in one place: the core's outputs of one
 * event-loop turn are held; at the end of the turn their journal records are committed in one transaction (group
 * commit), and only then are the held sends performed, in order. A send therefore never reveals a state the journal
 * does not hold — a TASK goes out after its attempt is counted, a REPLY after the outcome it reports, an ACK after the
 * change it acknowledges — so a crash at any instant loses nothing that anyone outside was told about. Logs are not
 * held: they describe, they do not acknowledge.
 */
import type { JournalRecord, Output, RecoveredState } from "../core/api";

/** What the shell needs of a store (the SQLite journal, or anything that commits atomically). */
export interface JournalStore {
  /** The task id prefix kept by the store, so ids survive restarts. */
  readonly prefix: string;
  read(): RecoveredState;
  /** Commits every record or none; throws when it cannot (nothing held is sent then). */
  commit(records: readonly JournalRecord[]): void;
  close(): void;
}

export class GroupCommit {
  private records: JournalRecord[] = [];
  private held: Output[] = [];
  private scheduled = false;
  private failed = false;
  private commits = 0;

  constructor(
    private readonly store: JournalStore,
    /** Performs outputs that are not journal records (sends, logs, stopped). */
    private readonly perform: (outputs: readonly Output[]) => void,
    /** The commit failed: the broker must stop without sending anything more. */
    private readonly onFailure: (err: unknown) => void,
    /** Test failpoint: after this many commits the process kills itself before performing the held sends. */
    private readonly crashAfterCommits?: number,
  ) {}

  /** Takes one core step's outputs: logs at once, records and sends held until the end of the turn. */
  push(outputs: readonly Output[]): void {
    if (this.failed) return;
    const logs: Output[] = [];
    for (const output of outputs) {
      if (output.kind === "journal") this.records.push(output.record);
      else if (output.kind === "log") logs.push(output);
      else this.held.push(output);
    }
    if (logs.length > 0) this.perform(logs);
    if (!this.scheduled && (this.records.length > 0 || this.held.length > 0)) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits what is pending, then performs the held sends. Also called before the sockets close. */
  flush(): void {
    this.scheduled = false;
    if (this.failed) return;
    if (this.records.length > 0) {
      const records = this.records;
      this.records = [];
      try {
        this.store.commit(records);
      } catch (err) {
        this.failed = true;
        this.held = [];
        this.onFailure(err);
        return;
      }
      this.commits++;
      if (this.crashAfterCommits !== undefined && this.commits >= this.crashAfterCommits) process.kill(process.pid, "SIGKILL");
    }
    const held = this.held;
    this.held = [];
    if (held.length > 0) this.perform(held);
  }
}
