/**
 * Structured logs of the broker (to stderr by default). Levels debug < info < warn < error; the broker is quiet by
 * default (warn). Format "text" is one human line per event; "json" is one JSON object per line with `time`, `level`,
 * `event` and the event's fields, for log shippers.
 */
import type { LogLevel } from "../core/api";
import type { LogFields, PeerLogger } from "../peer/logger";

export type { LogFields };
export type LogFormat = "text" | "json";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Where log lines go; `process.stderr` in the CLI, an array in tests. */
export interface LogSink {
  write(line: string): unknown;
}

/** Also the peer libraries' logger: the CLI hands it to clients and workers, so it implements PeerLogger. */
export class Logger implements PeerLogger {
  private readonly threshold: number;

  constructor(
    readonly level: LogLevel = "warn",
    readonly format: LogFormat = "text",
    private readonly sink: LogSink = process.stderr,
    private readonly clock: () => number = Date.now,
  ) {
    this.threshold = RANK[level];
  }

  /** Cheap guard so hot paths build fields only when the line will be written. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.threshold;
  }

  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    if (RANK[level] < this.threshold) return;
    this.write(level, event, fields, undefined);
  }

  debug(event: string, fields?: LogFields): void {
    this.log("debug", event, fields);
  }
  info(event: string, fields?: LogFields): void {
    this.log("info", event, fields);
  }
  warn(event: string, fields?: LogFields): void {
    this.log("warn", event, fields);
  }
  error(event: string, fields?: LogFields): void {
    this.log("error", event, fields);
  }

  /**
   * A line written whatever the level (the start-up "listening" line): in text format it is `text` as is, in json
   * format it is an ordinary JSON log line at `level` carrying `fields`.
   */
  announce(level: LogLevel, event: string, text: string, fields: LogFields): void {
    this.write(level, event, fields, text);
  }

  private write(level: LogLevel, event: string, fields: LogFields, text: string | undefined): void {
    if (this.format === "json") {
      this.sink.write(JSON.stringify({ time: new Date(this.clock()).toISOString(), level, event, ...fields }) + "\n");
      return;
    }
    if (text !== undefined) {
      this.sink.write(text + "\n");
      return;
    }
    let line = `${new Date(this.clock()).toISOString()} ${level.padEnd(5)} ${event}`;
    for (const key of Object.keys(fields)) line += ` ${key}=${formatValue(fields[key] ?? null)}`;
    this.sink.write(line + "\n");
  }
}

function formatValue(value: string | number | boolean | null): string {
  if (typeof value !== "string") return String(value);
  return /^[\x21-\x7e]+$/.test(value) && !value.includes('"') ? value : JSON.stringify(value);
}
