#!/usr/bin/env node
// CommonJS on purpose (bin/package.json): libuv sizes its thread pool (where fsync and other
// file work run) the first time it is used, and an ES module entry has already used it by the
// time its first line runs. 16 threads let the fsyncs of concurrent C-STOREs overlap; a value set by the
// user wins.
process.env.UV_THREADPOOL_SIZE ??= '16';
// V8 heuristics for a process that streams DICOM (see v8-flags.js); set here rather than in the
// shebang, whose `env -S` BusyBox (Alpine) does not have
const { setFlagsFromString } = require('node:v8');
for (const flag of require('./v8-flags.js').runtime) setFlagsFromString(flag);
import('../dist/src/cli/run.js');
