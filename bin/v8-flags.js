// V8 flags the dicomnet command sets for itself at start-up (bin/dicomnet.js), before any module
// of ours loads; the benchmarks give their dicomnet children the same list on the command line.
//
// --semi-space-growth-factor=1: a process that keeps little live data but streams many buffers
//   through (a storage SCP, a bulk SCU) lets V8 grow its young generation to 16 MB, which is as
//   much as the head room V8 leaves below its old-generation limit at that heap size; V8 then
//   follows nearly every young collection with a full mark-compact (about 40% of the SCP's CPU
//   per small instance). Keeping the young generation at its start size removes them.
// --no-lazy-feedback-allocation: V8 collects type feedback from a function's first call instead
//   of its ninth, so the per-message code is optimised sooner in a short-lived process.
module.exports = ['--semi-space-growth-factor=1', '--no-lazy-feedback-allocation'];
