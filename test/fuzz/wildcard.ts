/**
 * Fuzz target of the DICOM wildcard matcher (src/node/wildcard.ts): it agrees with a
 * reference matcher on random patterns, and its work stays within pattern × value.
 */
import fc from 'fast-check';
import { matchWildcardCounted } from '../../src/node/wildcard.js';
import { referenceWildcardMatch, wildcardStepBound } from '../helpers/wildcard-reference.js';
import { type FuzzTarget, InvariantError, noteInput, target } from './harness.js';

/** Few letters, so that patterns match often; wildcards; a non-BMP character (two code units). */
const char = fc.constantFrom('a', 'b', 'A', '*', '?', '\\', '^', ' ', 'é', '😀');
const text = (maxLength: number) => fc.array(char, { maxLength }).map((a) => a.join(''));
/** Values mostly without wildcard characters (stored data), patterns rich in them. */
const value = fc
  .array(fc.constantFrom('a', 'b', 'A', '^', 'é', '😀'), { maxLength: 48 })
  .map((a) => a.join(''));
const pattern = fc.oneof(
  text(24),
  // the shapes that made the backtracking regex exponential: *?*?…x
  fc
    .tuple(fc.integer({ min: 1, max: 32 }), fc.constantFrom('#', 'a', '😀'))
    .map(([n, last]) => '*?'.repeat(n) + last),
);

export const wildcardTargets: FuzzTarget[] = [
  target(
    'wildcard',
    'wildcard matching agrees with a reference and takes at most pattern × value steps',
    2000,
    () =>
      fc.property(pattern, fc.oneof(value, text(48)), (p, v) => {
        noteInput(JSON.stringify([p, v]));
        const { matched, steps } = matchWildcardCounted(p, v);
        const expected = referenceWildcardMatch(p, v);
        if (matched !== expected)
          throw new InvariantError(
            `${JSON.stringify(p)} vs ${JSON.stringify(v)}: ${matched}, reference ${expected}`,
          );
        const bound = wildcardStepBound(p, v);
        if (steps > bound)
          throw new InvariantError(
            `${JSON.stringify(p)} vs ${JSON.stringify(v)}: ${steps} steps, over ${bound}`,
          );
        return true;
      }),
  ),
];
