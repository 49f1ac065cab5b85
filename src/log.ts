import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { PrettyOptions, PrettyStream } from 'pino-pretty';

// pino-pretty is loaded only when asked for: it costs ~60 ms at start-up
const require = createRequire(import.meta.url);
function prettyStream(options: PrettyOptions): PrettyStream {
  const mod = require('pino-pretty') as { default?: (o: PrettyOptions) => PrettyStream } & ((
    o: PrettyOptions,
  ) => PrettyStream);
  return (mod.default ?? mod)(options);
}

export type { Logger } from 'pino';

/** Log formats the CLI offers. */
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  /** Where lines go; default stderr (stdout carries command output such as `find` matches). */
  destination?: DestinationStream;
  name?: string;
}

/** Paths redacted wherever they appear in a log object: secrets never reach a log. */
export const REDACTED_PATHS = [
  'passphrase',
  '*.passphrase',
  'password',
  '*.password',
  'tls.passphrase',
  'userIdentity.secondaryField',
  'passcode',
  '*.passcode',
];

/** Create a pino logger (JSON by default, human-readable with `format: 'pretty'`). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const destination =
    options.destination ??
    (options.format === 'pretty'
      ? prettyStream({ destination: 2, sync: true, colorize: process.stderr.isTTY, ignore: 'pid,hostname' })
      : pino.destination({ dest: 2, sync: true }));
  return pino(
    { level, name: options.name ?? 'dicomnet', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination,
  );
}

/** A logger that drops everything: the default for library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
