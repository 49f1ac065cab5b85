import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Status } from '../../dimse/index.js';
import { commonStorageContexts, serviceContexts } from '../../services/presentation.js';
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

export function registerGet(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('get')
    .description('retrieve with C-GET into a directory')
    .argument('<host>', 'peer host name or address')
    .argument('<port>', 'peer port')
    .requiredOption('--out <dir>', 'directory for the retrieved instances');
  cmd.option('-q, --quiet', 'no progress output');
  addQueryOptions(cmd, false);
  addCommonNetworkOptions(cmd);
  addTlsOptions(cmd, 'client');
  cmd.action(
    async (
      host: string,
      port: string,
      opts: CommonNetworkOptions &
        CliTlsOptions & { k?: string[]; model: 'patient' | 'study'; quiet?: boolean; out: string },
    ) => {
      const log = loggerFromCli(opts);
      const model = retrieveModel(opts.model);
      const query = queryFromCli({ ...opts, model });
      await mkdir(opts.out, { recursive: true });
      const assoc = await connectFromCli(
        host,
        port,
        opts,
        log,
        [...serviceContexts(), ...commonStorageContexts({ scpRole: true })],
        {
          tempDir: join(opts.out, '.incoming'),
          onStore: async (instance) => {
            await rename(instance.file, join(opts.out, `${instance.sopInstanceUid}.dcm`));
            return Status.Success;
          },
        },
      );
      const progress = createRetrieveProgress(ctx.stderr, opts.quiet);
      try {
        const result = await assoc.get(query, {
          model,
          onProgress: (p) => progress.update(p),
        });
        progress.stop();
        ctx.stdout.write(`C-GET done: ${formatRetrieve(result)}\n`);
      } catch (err) {
        progress.stop();
        assoc.abort();
        throw err;
      }
      await assoc.release();
    },
  );
}
