import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';

export function registerMove(program: Command, _ctx: CliContext): void {
  program
    .command('move')
    .description('(not yet implemented)')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('ERR_NOT_IMPLEMENTED', 'move: not implemented yet');
    });
}
