import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';

export function registerTls(program: Command, _ctx: CliContext): void {
  program
    .command('tls')
    .description('(not yet implemented)')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('ERR_NOT_IMPLEMENTED', 'tls: not implemented yet');
    });
}
