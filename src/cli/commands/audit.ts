import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyAuditChain } from '../../audit/chain.js';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';

/**
 * `dicomnet audit verify FILE...`: check the hash chain of an audit file (or of rotated
 * files, oldest first). Prints `ok N records` and the chain head (exit 0), or the first
 * line that was changed, removed or inserted (exit 1).
 */
export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('audit trail tools');
  audit
    .command('verify')
    .description(
      "check the audit file's hash chain; rotated files may be given oldest first (each must continue the one before)",
    )
    .argument('<file...>', 'audit file (JSON lines, as dicomnet serve writes it)')
    .action(async (files: string[]) => {
      for (const file of files) {
        let isFile: boolean;
        try {
          isFile = statSync(file).isFile();
        } catch (err) {
          throw new UsageError(
            'ERR_NO_FILE',
            `audit verify: cannot open ${file}: ${(err as NodeJS.ErrnoException).code}`,
          );
        }
        if (!isFile) throw new UsageError('ERR_NOT_A_FILE', `audit verify: ${file} is not a file`);
      }
      const verdict = await verifyAuditChain(files);
      if (!verdict.ok) {
        ctx.stdout.write(`${verdict.message}\n`);
        ctx.exitCode = ExitCode.DimseFailure;
        return;
      }
      const notes: string[] = [];
      if (verdict.unchained > 0)
        notes.push(`${verdict.unchained} line(s) before the chain started are not covered`);
      if (verdict.first && verdict.first.seq > 1)
        notes.push(`continues a chain from seq ${verdict.first.seq - 1} (sha256 ${verdict.first.prev})`);
      ctx.stdout.write(`ok ${verdict.records} records${notes.length > 0 ? ` (${notes.join('; ')})` : ''}\n`);
      ctx.stdout.write(`head: seq ${verdict.head.seq} sha256 ${verdict.head.hash}\n`);
    });
}
