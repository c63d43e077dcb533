import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Program name, added to every line as `name`. */
  readonly name: string;
  readonly level: LogLevel;
  /** Where lines go; defaults to stderr (fd 2). Tests pass a stream to read the lines back. */
  readonly destination?: DestinationStream;
}

/**
 * pino JSON on stderr: stdout belongs to the records a sidecar ships. Writes are synchronous so that the
 * last lines before an exit (deadline reports, fatal errors) are never lost; the sidecars' own logs are
 * low-volume, so this costs nothing measurable.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      name: options.name,
      level: options.level as LevelWithSilent,
      base: { name: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
