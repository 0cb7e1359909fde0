/**
 * What the peer libraries log through. The broker's `Logger` (broker/src/server/logger.ts) implements it, so the CLI
 * passes that one; library users pass their own or get the silent default.
 */
export type LogFields = Record<string, string | number | boolean | null>;

export interface PeerLogger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const ignore = (): void => undefined;

export const silentLogger: PeerLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
