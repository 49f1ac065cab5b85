#!/usr/bin/env node
// CommonJS on purpose (bin/package.json): libuv sizes its thread pool (where fsync and other
// file work run) the first time it is used, and an ES module entry has already used it by the
// time its first line runs. 16 threads let the fsyncs of concurrent C-STOREs overlap; a value set by the
// user wins.
process.env.UV_THREADPOOL_SIZE ??= '16';
import('../dist/src/cli/run.js');
