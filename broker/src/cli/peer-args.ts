/**
 * Argument helpers shared by `ztb worker`, `ztb client` and `ztb demo`. Every problem is a UsageError whose message
 * is the one line the CLI prints (`ztb <cmd>: <message> (see ztb <cmd> --help)`, exit code 2).
 */
import { describeParseError } from "./parse-error";
import { UsageError } from "./broker-options";

export { UsageError };

/** A usage error of a subcommand such as `client send`, so the hint names the right --help. */
export class SubcommandUsageError extends UsageError {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs node:util parseArgs, turning its errors into one-line UsageErrors (the thunk keeps parseArgs' inferred types). */
export function parsing<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw new UsageError(describeParseError(err));
  }
}

export function integer(option: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${option} must be an integer from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

/** A fraction 0..1 such as the prototype's DROP argument (0.1 = 10 %). */
export function fraction(option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = /^(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= 1)) throw new UsageError(`${option} must be a number from 0 to 1, not "${text}"`);
  return value;
}

/**
 * A duration: a bare number is milliseconds (as on the wire), or with a unit `ms`, `s`, `m` ("2s", "500ms", "0.5s").
 * Returned in whole milliseconds.
 */
export function duration(option: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const match = /^(\d+\.?\d*|\.\d+)(ms|s|m)?$/.exec(text);
  const unit = match?.[2] === "s" ? 1000 : match?.[2] === "m" ? 60_000 : 1;
  const value = match === null ? NaN : Math.round(Number(match[1]) * unit);
  if (!(value >= min && value <= max)) {
    throw new UsageError(`${option} must be a duration from ${min} to ${max} ms (e.g. 500, 500ms, 2s), not "${text}"`);
  }
  return value;
}

export function oneOf<T extends string>(option: string, text: string | undefined, fallback: T, allowed: readonly T[]): T {
  if (text === undefined) return fallback;
  const found = allowed.find((candidate) => candidate === text);
  if (found === undefined) throw new UsageError(`${option} must be one of ${allowed.join(", ")}, not "${text}"`);
  return found;
}

/** Catches the obvious typos early; libzmq judges the rest when connecting (see `connectError`). */
export function endpoint(name: string, text: string): string {
  if (!/^[a-z][a-z0-9+]*:\/\/./.test(text)) {
    throw new UsageError(`${name} endpoint "${text}" is not a ZeroMQ endpoint like tcp://localhost:4161`);
  }
  return text;
}

/**
 * One endpoint, or several separated by commas (a client's brokers to fail over between, in order): each checked as
 * `endpoint` does, none empty or named twice.
 */
export function endpointList(name: string, text: string): string[] {
  const list = text.split(",").map((item) => endpoint(name, item));
  const twice = list.find((item, i) => list.indexOf(item) !== i);
  if (twice !== undefined) throw new UsageError(`${name} endpoint "${twice}" is listed twice`);
  return list;
}

export function looksLikeEndpoint(text: string): boolean {
  return /^[a-z][a-z0-9+]*:\/\//.test(text);
}

/** libzmq refuses an endpoint at connect time with EINVAL (e.g. tcp://host without a port): one line, not a stack. */
export function connectError(endpointText: string, err: unknown): Error {
  const code = typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
  if (code === "EINVAL" || code === "EPROTONOSUPPORT") {
    return new UsageError(`cannot connect to "${endpointText}": ${code === "EINVAL" ? "invalid endpoint" : "unsupported transport"}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
