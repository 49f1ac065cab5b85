import type { Command } from 'commander';
import { Option } from 'commander';
import { parseKeyArgument } from '../data/index.js';
import { UsageError } from '../errors.js';
import type { QueryModel } from '../services/sop-classes.js';

/** `-k KEY[=VALUE]`, `-m MODEL` (and `-L LEVEL` for find). */
export function addQueryOptions(
  cmd: Command,
  withLevel: boolean,
  models: readonly QueryModel[] = ['patient', 'study', 'worklist'],
): Command {
  cmd
    .option(
      '-k <key=value>',
      'query key (keyword or gggg,eeee), repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .addOption(new Option('-m, --model <model>', 'information model').choices([...models]).default('study'));
  if (withLevel)
    cmd.addOption(
      new Option('-L, --level <level>', 'query level').choices(['PATIENT', 'STUDY', 'SERIES', 'IMAGE']),
    );
  return cmd;
}

/** Build the query (keyword → value) from `-k` arguments and `-L`. */
export function queryFromCli(opts: {
  k?: string[];
  level?: string;
  model: QueryModel;
}): Record<string, string> {
  const query: Record<string, string> = {};
  if (opts.level) query.QueryRetrieveLevel = opts.level;
  for (const arg of opts.k ?? []) {
    const { keyword, value } = parseKeyArgument(arg);
    query[keyword] = value;
  }
  if (opts.model !== 'worklist' && query.QueryRetrieveLevel === undefined) {
    throw new UsageError('ERR_USAGE', 'no query level: give -L LEVEL or -k QueryRetrieveLevel=STUDY');
  }
  return query;
}
