import type { Command } from 'commander';
import { SopClass } from '../../services/sop-classes.js';
import { UNCOMPRESSED_TRANSFER_SYNTAXES } from '../../services/presentation.js';
import { connectFromCli } from '../connect.js';
import type { CliContext } from '../context.js';
import {
  addCommonNetworkOptions,
  addTlsOptions,
  type CliTlsOptions,
  type CommonNetworkOptions,
  loggerFromCli,
} from '../options.js';

export function registerEcho(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('echo')
    .description('verify a peer with C-ECHO')
    .argument('<host>', 'peer host name or address')
    .argument('<port>', 'peer port')
    .option('--repeat <n>', 'number of C-ECHOs on the association', (v) => Number.parseInt(v, 10), 1);
  addCommonNetworkOptions(cmd);
  addTlsOptions(cmd, 'client');
  cmd.action(
    async (host: string, port: string, opts: CommonNetworkOptions & CliTlsOptions & { repeat: number }) => {
      const log = loggerFromCli(opts);
      const started = performance.now();
      const assoc = await connectFromCli(host, port, opts, log, [
        { abstractSyntax: SopClass.Verification, transferSyntaxes: [...UNCOMPRESSED_TRANSFER_SYNTAXES] },
      ]);
      try {
        for (let i = 0; i < opts.repeat; i++) await assoc.echo();
        await assoc.release();
      } catch (err) {
        assoc.abort();
        throw err;
      }
      const ms = Math.round(performance.now() - started);
      const link = assoc.secureLink
        ? ` over ${assoc.secureLink.protocol} ${assoc.secureLink.cipherSuite}`
        : '';
      ctx.stdout.write(`C-ECHO ${opts.aet} -> ${opts.aec}@${host}:${port} succeeded${link} (${ms} ms)\n`);
    },
  );
}
