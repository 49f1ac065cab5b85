import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import { registerDump } from './commands/dump.js';
import { registerEcho } from './commands/echo.js';
import { registerFind } from './commands/find.js';
import { registerGet } from './commands/get.js';
import { registerMove } from './commands/move.js';
import { registerPki } from './commands/pki.js';
import { registerServe } from './commands/serve.js';
import { registerStore } from './commands/store.js';
import { registerTls } from './commands/tls.js';
import type { CliContext } from './context.js';
import { describeError, ExitCode, exitCodeFor } from './exit-codes.js';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('dicomnet')
    .description('DICOM networking toolkit with first-class TLS')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .showHelpAfterError(false);
  registerDump(program, ctx);
  registerEcho(program, ctx);
  registerStore(program, ctx);
  registerFind(program, ctx);
  registerMove(program, ctx);
  registerGet(program, ctx);
  registerServe(program, ctx);
  registerPki(program, ctx);
  registerTls(program, ctx);
  return program;
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], ctx?: Partial<CliContext>): Promise<number> {
  const context: CliContext = { stdout: process.stdout, stderr: process.stderr, exitCode: 0, ...ctx };
  const program = buildProgram(context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return context.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; everything else commander rejects is usage
      return err.exitCode === 0 ? ExitCode.Success : ExitCode.Usage;
    }
    context.stderr.write(`dicomnet: ${describeError(err)}\n`);
    return exitCodeFor(err);
  }
}

/** Throw a usage error from inside a command action. */
export function usage(message: string): never {
  throw new UsageError('ERR_USAGE', message);
}
