import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import type { CliContext } from './context.js';
import { describeError, ExitCode, exitCodeFor } from './exit-codes.js';
import { VERSION } from './version.js';

type Register = (program: Command, ctx: CliContext) => void;

/**
 * Each command's module, loaded only when that command runs: the TLS/PKI and
 * SQLite code must not slow down `dicomnet echo` or `dicomnet dump`.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  dump: async () => (await import('./commands/dump.js')).registerDump,
  echo: async () => (await import('./commands/echo.js')).registerEcho,
  store: async () => (await import('./commands/store.js')).registerStore,
  find: async () => (await import('./commands/find.js')).registerFind,
  move: async () => (await import('./commands/move.js')).registerMove,
  get: async () => (await import('./commands/get.js')).registerGet,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  pki: async () => (await import('./commands/pki.js')).registerPki,
  tls: async () => (await import('./commands/tls.js')).registerTls,
  audit: async () => (await import('./commands/audit.js')).registerAudit,
};

/** The CLI program with the commands `argv` needs (all of them for help and unknown commands). */
export async function buildProgram(ctx: CliContext, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('dicomnet')
    .description('DICOM networking toolkit with first-class TLS')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .showHelpAfterError(false);
  const first = argv.find((a) => !a.startsWith('-'));
  const versionOnly = first === undefined && argv.some((a) => a === '-V' || a === '--version');
  const names = first !== undefined && first in COMMANDS ? [first] : versionOnly ? [] : Object.keys(COMMANDS);
  for (const name of names) (await (COMMANDS[name] as () => Promise<Register>)())(program, ctx);
  return program;
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], ctx?: Partial<CliContext>): Promise<number> {
  const context: CliContext = { stdout: process.stdout, stderr: process.stderr, exitCode: 0, ...ctx };
  try {
    const program = await buildProgram(context, argv);
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
