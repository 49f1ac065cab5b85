import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';

export function registerStore(program: Command, _ctx: CliContext): void {
  program
    .command('store')
    .description('(not yet implemented)')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('ERR_NOT_IMPLEMENTED', 'store: not implemented yet');
    });
}
