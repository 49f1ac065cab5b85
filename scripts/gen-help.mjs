#!/usr/bin/env node
// Writes dist/src/cli/top-help.txt: `dicomnet --help` as commander prints it with every command
// registered, so the CLI can answer `--help` without loading commander and all the commands
// (src/cli/run.ts). Runs after tsc in `npm run build`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';

const dist = process.env.DIST_DIR ?? 'dist';
const { buildProgram } = await import(pathToFileURL(join(dist, 'src', 'cli', 'main.js')).href);
const sink = new Writable({ write: (_c, _e, cb) => cb() });
const program = await buildProgram({ stdout: sink, stderr: sink, exitCode: 0 }, ['--help']);
writeFileSync(join(dist, 'src', 'cli', 'top-help.txt'), program.helpInformation());
