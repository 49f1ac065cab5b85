// V8 flags for dicomnet's processes. A process that keeps little live data but streams many
// buffers through (a storage SCP, a bulk SCU) otherwise gets a full mark-compact after nearly
// every young collection: V8 sizes its old-generation limit from the small live heap and starts
// marking whenever the head room left is not above what the young generation may hold (about
// 40% of the SCP's CPU per small instance).
//
// runtime: set by bin/dicomnet.js before any module of ours loads (v8.setFlagsFromString).
//   --semi-space-growth-factor=1 keeps the young generation at its start size, which ends those
//   collections for the SCU and the plain SCP; --no-lazy-feedback-allocation collects type
//   feedback from a function's first call, so the per-message code is optimised sooner.
// commandLine: only takes effect on node's command line (`npm start` passes it; so should a
//   deployment of `dicomnet serve`): --initial-old-space-size=64 gives the old generation head
//   room from the start, which also ends them for `serve`, whose index and caches keep more live
//   data. It is a limit, not an allocation.
module.exports = {
  runtime: ['--semi-space-growth-factor=1', '--no-lazy-feedback-allocation'],
  commandLine: ['--initial-old-space-size=64'],
};
