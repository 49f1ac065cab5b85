import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { DimseStatusError } from '../../dimse/index.js';
import { storageContextsFor } from '../../services/presentation.js';
import { connectFromCli } from '../connect.js';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { collectDicomFiles } from '../files.js';
import {
  addCommonNetworkOptions,
  addTlsOptions,
  type CliTlsOptions,
  type CommonNetworkOptions,
  loggerFromCli,
} from '../options.js';
import { createProgress } from '../progress.js';
import { usage } from '../main.js';

interface StoreCliOptions extends CommonNetworkOptions, CliTlsOptions {
  asyncOps: number;
  quiet?: boolean;
}

export function registerStore(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('store')
    .description('send DICOM files (and directories, recursively) with C-STORE')
    .argument('<host>', 'peer host name or address')
    .argument('<port>', 'peer port')
    .argument('<paths...>', 'DICOM files or directories')
    .option(
      '--async-ops <n>',
      'C-STOREs outstanding at once (asynchronous operations window)',
      (v) => Number.parseInt(v, 10),
      1,
    )
    .option('-q, --quiet', 'no progress output');
  addCommonNetworkOptions(cmd);
  addTlsOptions(cmd, 'client');
  cmd.action(async (host: string, port: string, paths: string[], opts: StoreCliOptions) => {
    const last = paths[paths.length - 1] ?? '';
    if (existsSync(host) && /^\d+$/.test(last) && !existsSync(last))
      usage(
        `the arguments are HOST PORT PATH...: '${host}' is a file and '${last}' looks like a port (dicomnet store ${port} ${last} ${host})`,
      );
    const log = loggerFromCli(opts);
    const started = performance.now();
    let skipped = 0;
    const files = await collectDicomFiles(paths, (p, why) => {
      skipped++;
      log.warn(`skipping ${p}: ${why}`);
    });
    if (files.length === 0) {
      ctx.stderr.write(`dicomnet: no DICOM files to send${skipped > 0 ? ` (${skipped} skipped)` : ''}\n`);
      ctx.exitCode = ExitCode.Usage;
      return;
    }
    const window = Math.max(1, opts.asyncOps);
    const assoc = await connectFromCli(host, port, opts, log, storageContextsFor(files), {
      asyncOps: { invoked: window, performed: 1 },
    });
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    const progress = createProgress(files.length, totalBytes, ctx.stderr, opts.quiet);
    let failures = 0;
    let sent = 0;
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const f = files[next++] as (typeof files)[number];
        try {
          await assoc.store(f.path);
          sent++;
        } catch (err) {
          if (
            !(err instanceof DimseStatusError) &&
            (err as { code?: string }).code !== 'ERR_NO_PRESENTATION_CONTEXT'
          )
            throw err;
          failures++;
          // the one line of this failure (not logged as well)
          ctx.stderr.write(`dicomnet: ${f.path}: ${(err as Error).message}\n`);
        }
        progress.tick(f.size, f.path);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(window, files.length) }, worker));
    } catch (err) {
      progress.stop();
      assoc.abort();
      throw err;
    }
    progress.stop();
    await assoc.release();
    const ms = Math.round(performance.now() - started);
    ctx.stdout.write(
      `C-STORE ${opts.aet} -> ${opts.aec}@${host}:${port}: ${sent} sent, ${skipped} skipped, ${failures} failed (${ms} ms)\n`,
    );
    if (failures > 0) ctx.exitCode = ExitCode.DimseFailure;
  });
}
