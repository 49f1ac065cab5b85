import { mkdir, rename, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Status } from '../../dimse/index.js';
import { commonStorageContexts, serviceContexts } from '../../services/presentation.js';
import { getSopClass, SopClass } from '../../services/sop-classes.js';
import { connectFromCli } from '../connect.js';
import type { CliContext } from '../context.js';
import { loggerFromCli } from '../options.js';
import { queryFromCli } from '../query.js';
import { defineRetrieveCommand, type RetrieveCliOptions, retrieveModel, runRetrieve } from '../retrieve.js';

export function registerGet(program: Command, ctx: CliContext): void {
  defineRetrieveCommand(program, 'get', 'retrieve with C-GET into a directory', [
    '--out <dir>',
    'directory for the retrieved instances',
  ]).action(async (host: string, port: string, opts: RetrieveCliOptions & { out: string }) => {
    const log = loggerFromCli(opts);
    const model = retrieveModel(opts.model);
    const query = queryFromCli({ ...opts, model });
    await mkdir(opts.out, { recursive: true });
    const contexts = [
      ...serviceContexts([SopClass.Verification, getSopClass(model)]),
      ...commonStorageContexts({ scpRole: true }),
    ];
    const assoc = await connectFromCli(host, port, opts, log, contexts, {
      tempDir: join(opts.out, '.incoming'),
      onStore: async (instance) => {
        await rename(instance.file, join(opts.out, `${instance.sopInstanceUid}.dcm`));
        return Status.Success;
      },
    });
    try {
      await runRetrieve(ctx, assoc, 'C-GET', opts.quiet, (onProgress) =>
        assoc.get(query, { model, onProgress }),
      );
    } finally {
      // the receive directory is ours: leave only the instances in DIR
      await rmdir(join(opts.out, '.incoming')).catch(() => undefined);
    }
  });
}
