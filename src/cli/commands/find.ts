import type { Command } from 'commander';
import { serviceContexts } from '../../services/presentation.js';
import { findSopClass, type QueryModel, SopClass } from '../../services/sop-classes.js';
import { connectFromCli, endAfterFailure } from '../connect.js';
import type { CliContext } from '../context.js';
import {
  addCommonNetworkOptions,
  addTlsOptions,
  type CliTlsOptions,
  type CommonNetworkOptions,
  loggerFromCli,
} from '../options.js';
import { addQueryOptions, queryFromCli } from '../query.js';

export function registerFind(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('find')
    .description('query with C-FIND; prints one DICOM JSON object per match per line')
    .argument('<host>', 'peer host name or address')
    .argument('<port>', 'peer port');
  addQueryOptions(cmd, true);
  addCommonNetworkOptions(cmd);
  addTlsOptions(cmd, 'client');
  cmd.action(
    async (
      host: string,
      port: string,
      opts: CommonNetworkOptions & CliTlsOptions & { k?: string[]; level?: string; model: QueryModel },
    ) => {
      const log = loggerFromCli(opts);
      const query = queryFromCli(opts);
      const assoc = await connectFromCli(
        host,
        port,
        opts,
        log,
        serviceContexts([SopClass.Verification, findSopClass(opts.model)]),
      );
      try {
        for await (const match of assoc.find(query, { model: opts.model })) {
          ctx.stdout.write(`${JSON.stringify(match)}\n`);
        }
      } catch (err) {
        await endAfterFailure(assoc, err);
        throw err;
      }
      await assoc.release();
    },
  );
}
