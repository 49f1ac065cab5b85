import type { Command } from 'commander';
import { serviceContexts } from '../../services/presentation.js';
import { moveSopClass, SopClass } from '../../services/sop-classes.js';
import { connectFromCli } from '../connect.js';
import type { CliContext } from '../context.js';
import { loggerFromCli } from '../options.js';
import { queryFromCli } from '../query.js';
import { defineRetrieveCommand, type RetrieveCliOptions, retrieveModel, runRetrieve } from '../retrieve.js';

export function registerMove(program: Command, ctx: CliContext): void {
  defineRetrieveCommand(program, 'move', 'retrieve with C-MOVE to another AE', [
    '--dest <aet>',
    'move destination AE title',
  ]).action(async (host: string, port: string, opts: RetrieveCliOptions & { dest: string }) => {
    const log = loggerFromCli(opts);
    const model = retrieveModel(opts.model);
    const query = queryFromCli({ ...opts, model });
    const assoc = await connectFromCli(
      host,
      port,
      opts,
      log,
      serviceContexts([SopClass.Verification, moveSopClass(model)]),
    );
    await runRetrieve(ctx, assoc, 'C-MOVE', opts.quiet, (onProgress) =>
      assoc.move(query, opts.dest, { model, onProgress }),
    );
  });
}
