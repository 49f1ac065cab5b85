import type { Command } from 'commander';
import { Option } from 'commander';
import { TlsError } from '../../tls/errors.js';
import { listProfileCiphers, type ProfileCipherList, SECURITY_PROFILE_NAMES } from '../../tls/profiles.js';
import type { SecurityProfileName } from '../../tls/types.js';
import type { CliContext } from '../context.js';

function formatList(list: ProfileCipherList): string {
  const lines = [
    `profile ${list.profile}: ${list.title}${list.retired ? ' (retired)' : ''}`,
    `  protocols: ${list.minVersion} - ${list.maxVersion}; OpenSSL ${list.openssl}`,
  ];
  if (list.unavailableReason) lines.push(`  UNAVAILABLE: ${list.unavailableReason}`);
  for (const suite of list.suites) {
    const mark = suite.available
      ? ''
      : suite.need === 'optional'
        ? '  (not in this OpenSSL; optional)'
        : '  (NOT in this OpenSSL)';
    lines.push(
      `  ${suite.protocol}  ${suite.iana.padEnd(46)} ${suite.openssl === suite.iana ? '' : suite.openssl}${mark}`.trimEnd(),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `dicomnet tls ciphers [--profile P] [--json]`: what a profile negotiates on this platform
 * (like DCMTK's `--list-ciphers`). Exit code 4 when the one profile asked for cannot be used here.
 */
export function registerTls(program: Command, ctx: CliContext): void {
  const tls = program.command('tls').description('TLS information');
  tls
    .command('ciphers')
    .description('list the cipher suites a security profile negotiates here (all profiles without --profile)')
    .addOption(new Option('--profile <profile>', 'TLS security profile').choices([...SECURITY_PROFILE_NAMES]))
    .option('--json', 'print JSON')
    .action((opts: { profile?: SecurityProfileName; json?: boolean }) => {
      const names = opts.profile ? [opts.profile] : [...SECURITY_PROFILE_NAMES];
      const lists = names.map((name) => listProfileCiphers(name));
      if (opts.json) ctx.stdout.write(`${JSON.stringify(opts.profile ? lists[0] : lists)}\n`);
      else ctx.stdout.write(lists.map(formatList).join('\n'));
      // asked about one profile that cannot work here: say so in the exit code too (4)
      const only = opts.profile ? lists[0] : undefined;
      if (only?.unavailableReason) throw new TlsError('ERR_TLS_PROFILE_UNAVAILABLE', only.unavailableReason);
    });
}
