import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';

export function registerFind(program: Command, _ctx: CliContext): void {
  program
    .command('find')
    .description('(not yet implemented)')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('ERR_NOT_IMPLEMENTED', 'find: not implemented yet');
    });
}
