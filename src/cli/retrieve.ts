import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { Association, RetrieveProgress } from '../services/client.js';
import { endAfterFailure } from './connect.js';
import type { CliContext } from './context.js';
import {
  addCommonNetworkOptions,
  addTlsOptions,
  type CliTlsOptions,
  type CommonNetworkOptions,
} from './options.js';
import { addQueryOptions } from './query.js';
import { createRetrieveProgress } from './retrieve-progress.js';

/** Options `move` and `get` share. */
export interface RetrieveCliOptions extends CommonNetworkOptions, CliTlsOptions {
  k?: string[];
  model: 'patient' | 'study';
  quiet?: boolean;
}

/** C-MOVE and C-GET take patient or study root. */
export function retrieveModel(model: string): 'patient' | 'study' {
  if (model === 'patient' || model === 'study') return model;
  throw new UsageError('ERR_USAGE', `-m ${model} cannot retrieve; use patient or study`);
}

/** `status 0xFF00: remaining 3, completed 2, failed 0, warning 0`. */
export function formatRetrieve(p: RetrieveProgress): string {
  const hex = `0x${p.status.toString(16).toUpperCase().padStart(4, '0')}`;
  return `status ${hex}: remaining ${p.remaining ?? '-'}, completed ${p.completed ?? '-'}, failed ${p.failed ?? '-'}, warning ${p.warning ?? '-'}`;
}

/** `move`/`get`: HOST PORT, the command's own required option, query, network and TLS options. */
export function defineRetrieveCommand(
  program: Command,
  name: string,
  description: string,
  required: [flags: string, description: string],
): Command {
  const cmd = program
    .command(name)
    .description(description)
    .argument('<host>', 'peer host name or address')
    .argument('<port>', 'peer port')
    .requiredOption(required[0], `${required[1]} (required)`)
    .option('-q, --quiet', 'no progress output');
  // a worklist is queried (find -m worklist), never retrieved
  addQueryOptions(cmd, false, ['patient', 'study']);
  addCommonNetworkOptions(cmd);
  return addTlsOptions(cmd, 'client');
}

/** Run a retrieve on `assoc` with progress output, print the outcome, release (see {@link endAfterFailure} on failure). */
export async function runRetrieve(
  ctx: CliContext,
  assoc: Association,
  label: 'C-MOVE' | 'C-GET',
  quiet: boolean | undefined,
  retrieve: (onProgress: (p: RetrieveProgress) => void) => Promise<RetrieveProgress>,
): Promise<void> {
  const progress = createRetrieveProgress(ctx.stderr, quiet);
  try {
    const result = await retrieve((p) => progress.update(p));
    progress.stop();
    ctx.stdout.write(`${label} done: ${formatRetrieve(result)}\n`);
  } catch (err) {
    progress.stop();
    await endAfterFailure(assoc, err);
    throw err;
  }
  await assoc.release();
}
