#!/usr/bin/env -S node --initial-old-space-size=64 --no-lazy-feedback-allocation
// --initial-old-space-size: with V8's default start-up limit, a process that keeps little live
// data but streams many buffers through (a storage SCP, a bulk SCU) stays within one young
// generation of its old-generation limit, so V8 runs an incremental mark-compact every ~100 ms
// under load: about 40% of the SCP's CPU per small instance (bench/store-cpu). 64 MB of head
// room removes those collections; it is a limit, not an allocation.
// --no-lazy-feedback-allocation: V8 collects type feedback from a function's first call instead
// of its ninth, so the per-message code is optimised sooner; a short-lived `store` of 1000 files
// spends ~12% less CPU. `npm start` passes both; `node bin/dicomnet.js` without them works, only
// slower.
// CommonJS on purpose (bin/package.json): libuv sizes its thread pool (where fsync and other
// file work run) the first time it is used, and an ES module entry has already used it by the
// time its first line runs. 16 threads let the fsyncs of concurrent C-STOREs overlap; a value set by the
// user wins.
process.env.UV_THREADPOOL_SIZE ??= '16';
import('../dist/src/cli/run.js');
