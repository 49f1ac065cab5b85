import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../../errors.js';
import { TlsError } from '../../tls/errors.js';
import { defaultServerSans, initCaDirectory, issueCertificateFiles, type PkiKeyType } from '../../tls/pki.js';
import type { CliContext } from '../context.js';

interface IssueCliOptions {
  ca: string;
  cn: string;
  out: string;
  client?: boolean;
  san?: string[];
  days?: number;
  keyType: PkiKeyType;
  passphraseFile?: string;
}

/** PKI input problems (existing files, bad SANs, unreadable CA) are usage errors on the command line. */
async function asUsage<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof TlsError && err.code === 'ERR_TLS_PKI') throw new UsageError('ERR_USAGE', err.message);
    throw err;
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function days(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 36500)
    throw new UsageError('ERR_USAGE', `--days must be a whole number of days (1-36500), got '${value}'`);
  return n;
}

function readPassphrase(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError('ERR_USAGE', `cannot read passphrase file ${file}: ${(err as Error).message}`);
  }
  const passphrase = text.split(/\r?\n/)[0] ?? '';
  if (passphrase.length < 4)
    throw new UsageError('ERR_USAGE', `passphrase in ${file} must have at least 4 characters`);
  return passphrase;
}

/**
 * `dicomnet pki init DIR` — a development CA (`ca.crt`, `ca.key` mode 0600; reused if present).
 * `dicomnet pki issue --ca DIR --cn NAME --out DIR` — a server (default; SANs localhost,
 * 127.0.0.1 and the host name unless `--san` is given; EKU serverAuth) or `--client`
 * (EKU clientAuth) certificate written as `NAME.crt` and `NAME.key` in the output directory.
 */
export function registerPki(program: Command, ctx: CliContext): void {
  const pki = program.command('pki').description('development PKI: a CA and certificates for TLS tests');
  pki
    .command('init')
    .description('create a development CA in DIR (ca.crt, ca.key); an existing CA is reused')
    .argument('<dir>', 'directory for the CA')
    .addOption(new Option('--key-type <type>', 'CA key type').choices(['rsa', 'ec']).default('rsa'))
    .action(async (dir: string, opts: { keyType: PkiKeyType }) => {
      const ca = await asUsage(initCaDirectory(dir, { keyType: opts.keyType }));
      ctx.stdout.write(
        `${ca.created ? 'created' : 'reused existing'} CA: ${ca.certificate} (key ${ca.key})\n` +
          `CA SHA-256 fingerprint: ${ca.fingerprint256}\n`,
      );
    });
  pki
    .command('issue')
    .description('issue a server (default) or client certificate: writes NAME.crt and NAME.key into --out')
    .requiredOption('--ca <dir>', 'CA directory made by `pki init`')
    .requiredOption('--cn <name>', 'subject common name (also the file name)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--client', 'client certificate (EKU clientAuth) instead of server (EKU serverAuth)')
    .option('--san <name>', 'subject alternative name DNS:x, IP:y or URI:z (repeatable)', collect)
    .option('--days <n>', 'validity in days (default 825)', days)
    .addOption(new Option('--key-type <type>', 'key type').choices(['rsa', 'ec']).default('rsa'))
    .option(
      '--passphrase-file <file>',
      'encrypt the private key (PKCS#8, AES-256-CBC) with the password in this file',
    )
    .action(async (opts: IssueCliOptions) => {
      const san = opts.san ?? (opts.client ? [] : defaultServerSans());
      const issued = await asUsage(
        issueCertificateFiles(opts.ca, opts.out, {
          commonName: opts.cn,
          client: opts.client === true,
          san,
          days: opts.days,
          keyType: opts.keyType,
          passphrase: opts.passphraseFile ? readPassphrase(opts.passphraseFile) : undefined,
        }),
      );
      ctx.stdout.write(
        `issued ${opts.client ? 'client' : 'server'} certificate CN=${opts.cn} serial ${issued.serialNumber}` +
          `${san.length > 0 ? ` SAN ${san.join(', ')}` : ''}\n` +
          `certificate: ${issued.certificate}\nprivate key: ${issued.key}${opts.passphraseFile ? ' (encrypted)' : ''}\n`,
      );
    });
}
