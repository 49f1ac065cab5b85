#!/usr/bin/env node
// The long fuzz run: the compiled properties of test/fuzz/ (run `npm run build` first), by
// default 1 000 000 cases per decoder, split over that decoder's properties.
//
// Usage: node scripts/fuzz.mjs [--runs N] [--time-limit SECONDS] [--seed S --path P] [--hang SECONDS] [filter...]
//   filter      decoder names or property substrings (pdu, fsm, command-set, reassembler,
//               dataset, part10, json, charset, config); all when none is given
//   --runs N    cases per decoder (default 1000000)
//   --seed, --path  replay one failure as printed by an earlier run (give a filter too)
//   --time-limit S  stop each decoder after S seconds (split over its properties); the
//               report then gives the cases actually run
//   --hang S    a case that makes no progress for S seconds is a hang (default 120)
//
// Each property runs in a worker thread; a watchdog reads the input being processed from
// shared memory, so a hang is reported with its input. Exits 1 on any failure, printing the
// fast-check seed and path and the minimised input (bytes as hex).
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const distDir = process.env.DIST_DIR ?? join(root, 'dist');
const targetsModule = join(distDir, 'test', 'fuzz', 'targets.js');
const SHARED_BYTES = 64 * 1024;

if (!isMainThread) {
  const { ALL_TARGETS, installWatchdogBuffer, describeCounterexample } = await import(
    pathToFileURL(targetsModule).href
  );
  installWatchdogBuffer(workerData.shared);
  const t = ALL_TARGETS[workerData.index];
  const out = await t.check(workerData.params);
  parentPort.postMessage({
    ...out,
    counterexample: out.failed ? describeCounterexample(out.counterexample) : undefined,
  });
} else {
  await main();
}

function parseArgs(argv) {
  const opts = {
    runs: 1_000_000,
    timeLimit: undefined,
    seed: undefined,
    path: undefined,
    hang: 120,
    filters: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') opts.runs = Number(value());
    else if (a === '--seed') opts.seed = Number(value());
    else if (a === '--path') opts.path = value();
    else if (a === '--hang') opts.hang = Number(value());
    else if (a === '--time-limit') opts.timeLimit = Number(value());
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else opts.filters.push(a);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) usage('--runs must be a positive integer');
  return opts;
}

function usage(problem) {
  if (problem) console.error(`fuzz: ${problem}`);
  console.error(
    'usage: node scripts/fuzz.mjs [--runs N] [--time-limit SECONDS] [--seed S --path P] [--hang SECONDS] [filter...]',
  );
  process.exit(problem ? 2 : 0);
}

function runWorker(index, params, hangSeconds, label) {
  const shared = new SharedArrayBuffer(SHARED_BYTES + 4);
  const counter = new Int32Array(shared, SHARED_BYTES, 1);
  const worker = new Worker(fileURLToPath(import.meta.url), {
    workerData: { index, params, shared },
    resourceLimits: { maxOldGenerationSizeMb: 2048 },
  });
  const started = Date.now();
  return new Promise((resolve) => {
    let last = 0;
    let lastChange = Date.now();
    let lastReport = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      const seen = Atomics.load(counter, 0);
      if (seen !== last) {
        last = seen;
        lastChange = now;
      }
      if (now - lastReport >= 30_000) {
        lastReport = now;
        const rate = seen / ((now - started) / 1000);
        process.stdout.write(`  … ${label}: ${seen} cases, ${rate.toFixed(0)}/s\n`);
      }
      if (now - lastChange > hangSeconds * 1000) {
        clearInterval(timer);
        const view = new DataView(shared, 0, 4);
        const length = view.getUint32(0, true);
        const bytes = Buffer.from(new Uint8Array(shared, 4, Math.min(length, SHARED_BYTES - 4)));
        void worker.terminate();
        resolve({
          failed: true,
          hang: true,
          numRuns: seen,
          error: `no progress for ${hangSeconds} s: the case below hangs`,
          counterexample: `hex:${bytes.toString('hex')}${length > bytes.length ? ` (first ${bytes.length} of ${length} bytes)` : ''}`,
          seconds: (now - started) / 1000,
        });
      }
    }, 1000);
    worker.once('message', (out) => {
      clearInterval(timer);
      resolve({ ...out, seconds: (Date.now() - started) / 1000 });
    });
    worker.once('error', (err) => {
      clearInterval(timer);
      resolve({
        failed: true,
        numRuns: Atomics.load(counter, 0),
        error: `worker died: ${err.stack ?? err}`,
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(targetsModule)) {
    console.error(`fuzz: ${targetsModule} not found; run \`npm run build\` first`);
    process.exit(2);
  }
  const { ALL_TARGETS, selectTargets } = await import(pathToFileURL(targetsModule).href);
  const selected = selectTargets(opts.filters);
  if (selected.length === 0) usage(`no property matches ${opts.filters.join(' ')}`);
  const perDecoder = new Map();
  for (const t of selected) perDecoder.set(t.decoder, [...(perDecoder.get(t.decoder) ?? []), t]);

  const limit = opts.timeLimit === undefined ? '' : `, at most ${opts.timeLimit} s per decoder`;
  console.log(
    `fuzz: ${opts.runs} cases per decoder${limit}, ${selected.length} properties, node ${process.version}`,
  );
  const totals = [];
  let failures = 0;
  for (const [decoder, targets] of perDecoder) {
    // capped properties (heavy cases) give their share to the others
    const capped = targets.filter((t) => t.maxRuns !== undefined && t.maxRuns < opts.runs / targets.length);
    const capRuns = capped.reduce((n, t) => n + t.maxRuns, 0);
    const share = Math.ceil((opts.runs - capRuns) / Math.max(1, targets.length - capped.length));
    let cases = 0;
    let seconds = 0;
    for (const t of targets) {
      const numRuns = capped.includes(t) ? t.maxRuns : share;
      const params = { numRuns, seed: opts.seed, path: opts.path };
      if (opts.timeLimit !== undefined)
        params.timeLimitMs = Math.round((opts.timeLimit * 1000) / targets.length);
      const label = `${decoder}: ${t.name}`;
      console.log(`▶ ${label} (${numRuns} cases)`);
      const out = await runWorker(ALL_TARGETS.indexOf(t), params, opts.hang, label);
      cases += out.numRuns;
      seconds += out.seconds;
      const rate = out.numRuns / Math.max(out.seconds, 0.001);
      if (out.failed) {
        failures++;
        console.log(`✖ ${label}: FAILED after ${out.numRuns} cases (${out.seconds.toFixed(1)} s)`);
        if (!out.hang) {
          console.log(
            `  replay: node scripts/fuzz.mjs ${JSON.stringify(t.name)} --seed ${out.seed} --path ${JSON.stringify(out.path ?? '')}`,
          );
        }
        console.log(`  minimised input: ${out.counterexample}`);
        console.log(`  ${String(out.error).split('\n').slice(0, 12).join('\n  ')}`);
      } else {
        console.log(
          `✔ ${label}: ${out.numRuns} cases in ${out.seconds.toFixed(1)} s (${rate.toFixed(0)} cases/s)`,
        );
      }
    }
    totals.push({ decoder, cases, seconds });
  }
  console.log('\ndecoder        cases      seconds   cases/s');
  for (const { decoder, cases, seconds } of totals) {
    console.log(
      `${decoder.padEnd(14)}${String(cases).padStart(9)}  ${seconds.toFixed(1).padStart(9)}  ${(cases / Math.max(seconds, 0.001)).toFixed(0).padStart(8)}`,
    );
  }
  console.log(
    failures === 0
      ? '\nfuzz: no failure'
      : `\nfuzz: ${failures} propert${failures === 1 ? 'y' : 'ies'} failed`,
  );
  process.exit(failures === 0 ? 0 : 1);
}
