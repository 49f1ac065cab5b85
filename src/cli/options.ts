import { existsSync, readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { createLogger, type LogFormat, type Logger, lineLogger } from '../log.js';
import { SECURITY_PROFILE_NAMES } from '../tls/profiles.js';
import type { SecurityProfileName, TlsOptions } from '../tls/types.js';

/** Options every network command shares (DESIGN.md "Common options"). */
export interface CommonNetworkOptions {
  aet: string;
  aec: string;
  timeout?: number;
  maxPdu?: number;
  logLevel: string;
  logFormat?: LogFormat;
}

/** TLS options as commander parses them. */
export interface CliTlsOptions {
  tls?: boolean;
  key?: string;
  cert?: string;
  pfx?: string;
  passphraseFile?: string;
  ca?: string[];
  crl?: string[];
  requirePeerCert?: boolean;
  profile?: SecurityProfileName;
  ciphers?: string;
  tlsMin?: '1.2' | '1.3';
  noHostnameCheck?: boolean;
  hostnameCheck?: boolean;
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new UsageError('ERR_USAGE', `${name} must be a whole number, got '${value}'`);
    return n;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--log-level` and `--log-format`. */
export function addLogOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--log-level <level>', 'log level')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default('warn'),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log format (default: one line per warning or error; pretty at info and below)',
      ).choices(['json', 'pretty']),
    );
}

/** `--aet --aec --timeout --max-pdu` plus the log options. */
export function addCommonNetworkOptions(cmd: Command): Command {
  cmd
    .option('--aet <aet>', 'calling AE title', 'DICOMNET')
    .option('--aec <aet>', 'called AE title', 'ANY-SCP')
    .option('--timeout <sec>', 'network timeout in seconds', positiveInt('--timeout'))
    .option('--max-pdu <bytes>', 'largest PDU we accept', positiveInt('--max-pdu'));
  return addLogOptions(cmd);
}

/** The TLS options of the CLI contract; `server` adds `--require-peer-cert`. */
export function addTlsOptions(cmd: Command, side: 'client' | 'server'): Command {
  if (side === 'client')
    cmd.option('--tls', 'use a secure TLS connection (PS3.15 Annex B); implied by any TLS option below');
  cmd
    .option('--key <file>', 'private key (PEM or DER)')
    .option('--cert <file>', 'certificate (chain), PEM or DER')
    .option('--pfx <file>', 'PKCS#12 bundle with key and certificate')
    .option('--passphrase-file <file>', 'file holding the private key password')
    .option('--ca <file>', 'trusted CA certificate file or directory (repeatable)', collect)
    .option('--crl <file>', 'certificate revocation list (repeatable)', collect)
    .addOption(new Option('--profile <profile>', 'TLS security profile').choices([...SECURITY_PROFILE_NAMES]))
    .option('--ciphers <list>', 'extra OpenSSL cipher list, checked against the profile')
    .addOption(new Option('--tls-min <version>', 'lowest TLS version').choices(['1.2', '1.3']));
  if (side === 'server')
    cmd.option('--require-peer-cert', 'require a client certificate (mutual authentication)');
  else
    cmd.option('--no-hostname-check', 'do not verify the server host name against its certificate (warns)');
  return cmd;
}

/** Read a password file: the first line, without its line ending. Never logged. */
export function readPassphraseFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
  } catch (err) {
    throw new UsageError('ERR_USAGE', `cannot read passphrase file ${file}: ${(err as Error).message}`);
  }
}

/**
 * True when the client is to use TLS: `--tls`, or any TLS option (`--key --cert --pfx --ca --crl
 * --passphrase-file --profile --ciphers --tls-min --no-hostname-check`), which implies it, so
 * certificates are never silently ignored (DESIGN.md).
 */
export function wantsTls(opts: CliTlsOptions): boolean {
  return Boolean(
    opts.tls ||
    opts.key ||
    opts.cert ||
    opts.pfx ||
    opts.passphraseFile ||
    opts.ca?.length ||
    opts.crl?.length ||
    opts.profile ||
    opts.ciphers ||
    opts.tlsMin ||
    opts.hostnameCheck === false,
  );
}

/** A usage error (exit 2) for the first file option naming a file that is not there. */
export function assertFilesExist(files: Record<string, string | string[] | undefined>): void {
  for (const [option, value] of Object.entries(files)) {
    for (const file of value === undefined ? [] : Array.isArray(value) ? value : [value]) {
      if (!existsSync(file)) throw new UsageError('ERR_USAGE', `no such file: ${file} (${option})`);
    }
  }
}

/** Turn the parsed TLS options into {@link TlsOptions}; undefined when TLS is not asked for. */
export function tlsOptionsFromCli(opts: CliTlsOptions, side: 'client' | 'server'): TlsOptions | undefined {
  if (side === 'client' && !wantsTls(opts)) return undefined;
  assertFilesExist({
    '--key': opts.key,
    '--cert': opts.cert,
    '--pfx': opts.pfx,
    '--passphrase-file': opts.passphraseFile,
    '--ca': opts.ca,
    '--crl': opts.crl,
  });
  const tls: TlsOptions = {};
  if (opts.key) tls.key = opts.key;
  if (opts.cert) tls.cert = opts.cert;
  if (opts.pfx) tls.pfx = opts.pfx;
  if (opts.passphraseFile) tls.passphrase = readPassphraseFile(opts.passphraseFile);
  if (opts.ca?.length) tls.ca = opts.ca;
  if (opts.crl?.length) tls.crl = opts.crl;
  if (opts.profile) tls.profile = opts.profile;
  if (opts.ciphers) tls.ciphers = opts.ciphers;
  if (opts.tlsMin) tls.minVersion = opts.tlsMin === '1.3' ? 'TLSv1.3' : 'TLSv1.2';
  if (side === 'server' && opts.requirePeerCert) tls.requirePeerCertificate = true;
  if (side === 'client' && opts.hostnameCheck === false) tls.checkServerIdentity = false;
  return tls;
}

/**
 * Logger for a command, from `--log-level` / `--log-format`. Without `--log-format`, warnings and
 * errors are one `dicomnet: warning: …` line each (no pino-pretty to load), and the chattier
 * levels are pretty-printed with their fields.
 */
export function loggerFromCli(opts: { logLevel?: string; logFormat?: LogFormat }): Logger {
  const level = opts.logLevel ?? 'warn';
  const quiet = level === 'warn' || level === 'error' || level === 'fatal' || level === 'silent';
  if (quiet && opts.logFormat === undefined) return lineLogger(level);
  return createLogger({ level, format: opts.logFormat ?? 'pretty' });
}

/** Parse a port argument. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError('ERR_USAGE', `invalid port '${value}'`);
  return n;
}
