/**
 * The CI slice of the fuzz targets: a few hundred to a couple of thousand
 * inputs per property (FUZZ_CI_SCALE multiplies them). The long run is
 * `npm run fuzz` (scripts/fuzz.mjs).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_TARGETS, describeCounterexample } from './targets.js';

const scale = Number(process.env.FUZZ_CI_SCALE ?? 1);

describe('fuzz (CI slice)', () => {
  for (const t of ALL_TARGETS) {
    test(`${t.decoder}: ${t.name}`, async () => {
      const numRuns = Math.max(1, Math.round(t.ciRuns * scale));
      const out = await t.check({ numRuns });
      if (out.failed) {
        assert.fail(
          `failed after ${out.numRuns} runs (seed ${out.seed}, path ${out.path ?? '?'})\n` +
            `counterexample: ${describeCounterexample(out.counterexample)}\n${out.error ?? ''}`,
        );
      }
    });
  }
});
