import { createRequire } from 'node:module';
import type { DestinationStream, Logger, LoggerOptions as PinoOptions } from 'pino';
import type { PrettyOptions, PrettyStream } from 'pino-pretty';

// pino and pino-pretty are loaded only when a logger needs them: together they cost more start-up
// time than the rest of `dicomnet echo`, and the CLI's default level needs neither
const require = createRequire(import.meta.url);
type PinoFactory = ((options: PinoOptions, destination?: DestinationStream) => Logger) & {
  destination(options: { dest: number; sync: boolean }): DestinationStream;
};
function pino(): PinoFactory {
  return (require('pino') as { pino: PinoFactory }).pino;
}
function prettyStream(options: PrettyOptions): PrettyStream {
  const mod = require('pino-pretty') as { default?: (o: PrettyOptions) => PrettyStream } & ((
    o: PrettyOptions,
  ) => PrettyStream);
  return (mod.default ?? mod)(options);
}

export type { Logger } from 'pino';

/**
 * Log formats the CLI offers: `json` lines, `pretty` (pino-pretty), or `line`: one
 * `dicomnet: warning: …` line per message, what the CLI shows at its default level.
 */
export type LogFormat = 'json' | 'pretty' | 'line';

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

const LEVEL_WORDS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

/** `format: 'line'`: each record as `NAME: LEVEL: msg` on stderr, its other fields left out. */
function lineStream(name: string): DestinationStream {
  return {
    write(record: string): void {
      let level = 30;
      let msg = record.trimEnd();
      try {
        const parsed = JSON.parse(record) as { level?: number; msg?: unknown };
        level = parsed.level ?? level;
        msg = typeof parsed.msg === 'string' ? parsed.msg : msg;
      } catch {
        // not JSON: printed as it came
      }
      process.stderr.write(`${name}: ${LEVEL_WORDS[level] ?? 'log'}: ${msg}\n`);
    },
  };
}

/** Create a pino logger (JSON by default, human-readable with `format: 'pretty'` or `'line'`). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const destination =
    options.destination ??
    (options.format === 'pretty'
      ? prettyStream({ destination: 2, sync: true, colorize: process.stderr.isTTY, ignore: 'pid,hostname' })
      : options.format === 'line'
        ? lineStream(options.name ?? 'dicomnet')
        : pino().destination({ dest: 2, sync: true }));
  return pino()(
    { level, name: options.name ?? 'dicomnet', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination,
  );
}

/** A logger that drops everything: the default for library use. */
export function silentLogger(): Logger {
  return pino()({ level: 'silent' });
}

const LEVEL_VALUES: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/**
 * The CLI's logger at `warn` and above without `--log-format`: one `dicomnet: warning: msg` line
 * per record on stderr, and no pino to load. Implements the part of pino's Logger dicomnet calls
 * (the level methods with `(obj, msg)` or `(msg)`, `isLevelEnabled`, `level`, `child`).
 */
export function lineLogger(level: string, name = 'dicomnet'): Logger {
  const threshold = LEVEL_VALUES[level] ?? 40;
  const method = (value: number) => (first: unknown, second?: unknown) => {
    if (value < threshold) return;
    const msg =
      typeof first === 'string'
        ? first
        : typeof second === 'string'
          ? second
          : first instanceof Error
            ? first.message
            : '';
    process.stderr.write(`${name}: ${LEVEL_WORDS[value] ?? 'log'}: ${msg}\n`);
  };
  const logger = {
    level,
    trace: method(10),
    debug: method(20),
    info: method(30),
    warn: method(40),
    error: method(50),
    fatal: method(60),
    silent: () => undefined,
    isLevelEnabled: (l: string) => (LEVEL_VALUES[l] ?? 0) >= threshold,
    child: () => logger,
  };
  return logger as unknown as Logger;
}
