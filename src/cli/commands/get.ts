import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';

export function registerGet(program: Command, _ctx: CliContext): void {
  program
    .command('get')
    .description('(not yet implemented)')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('ERR_NOT_IMPLEMENTED', 'get: not implemented yet');
    });
}
