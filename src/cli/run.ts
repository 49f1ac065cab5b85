#!/usr/bin/env node
// Process entry of the CLI (bin/dicomnet.js loads this); tests spawn it directly.
// `dicomnet --help` and `--version` are answered without loading commander or any command:
// the top-level help is written at build time (scripts/gen-help.mjs) from the same program.
import { readFileSync } from 'node:fs';
import { VERSION } from './version.js';

function fastAnswer(argv: readonly string[]): string | undefined {
  if (argv.length !== 1) return undefined;
  if (argv[0] === '-V' || argv[0] === '--version') return `${VERSION}\n`;
  if (argv[0] !== '-h' && argv[0] !== '--help') return undefined;
  try {
    return readFileSync(new URL('./top-help.txt', import.meta.url), 'utf8');
  } catch {
    return undefined; // not built: commander writes it
  }
}

const argv = process.argv.slice(2);
const answer = fastAnswer(argv);
if (answer !== undefined) process.stdout.write(answer);
else {
  import('./main.js')
    .then(({ main }) => main(argv))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        process.stderr.write(`dicomnet: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
        process.exitCode = 70;
      },
    );
}
