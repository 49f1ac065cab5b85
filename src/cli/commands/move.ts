import type { Command } from 'commander';
import { serviceContexts } from '../../services/presentation.js';
import { connectFromCli } from '../connect.js';
import type { CliContext } from '../context.js';
import {
  addCommonNetworkOptions,
  addTlsOptions,
  type CliTlsOptions,
  type CommonNetworkOptions,
  loggerFromCli,
} from '../options.js';
import { addQueryOptions, queryFromCli } from '../query.js';
import { formatRetrieve, retrieveModel } from '../retrieve.js';
import { createRetrieveProgress } from '../retrieve-progress.js';

export function registerMove(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('move')
    .description('retrieve with C-MOVE to another AE')
    .argument('<host>', 'peer host name or address')
    .argument('<port>', 'peer port')
    .requiredOption('--dest <aet>', 'move destination AE title');
  cmd.option('-q, --quiet', 'no progress output');
  addQueryOptions(cmd, false);
  addCommonNetworkOptions(cmd);
  addTlsOptions(cmd, 'client');
  cmd.action(
    async (
      host: string,
      port: string,
      opts: CommonNetworkOptions &
        CliTlsOptions & { k?: string[]; model: 'patient' | 'study'; quiet?: boolean; dest: string },
    ) => {
      const log = loggerFromCli(opts);
      const model = retrieveModel(opts.model);
      const query = queryFromCli({ ...opts, model });
      const assoc = await connectFromCli(host, port, opts, log, serviceContexts());
      const progress = createRetrieveProgress(ctx.stderr, opts.quiet);
      try {
        const result = await assoc.move(query, opts.dest, {
          model,
          onProgress: (p) => progress.update(p),
        });
        progress.stop();
        ctx.stdout.write(`C-MOVE done: ${formatRetrieve(result)}\n`);
      } catch (err) {
        progress.stop();
        assoc.abort();
        throw err;
      }
      await assoc.release();
    },
  );
}
