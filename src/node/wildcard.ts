/**
 * DICOM wildcard matching (PS3.4 C.2.2.2.4) without backtracking: `*` matches any run of
 * characters (also none), `?` exactly one character, everything else itself. There is no
 * escape character. Characters are Unicode code points, as in a `u` regular expression.
 *
 * The matcher is the two-pointer glob algorithm: on a mismatch it returns to the last `*`
 * seen and lets it take one more character, never to an earlier one. Its work is at most
 * (pattern length + 1) × (value length + 1) steps whatever the pattern, where a regular
 * expression built from `*?*?…x` backtracks exponentially.
 */

const SURROGATE = /[\uD800-\uDFFF]/;

/** The code points of `s`, or `s` itself when every code unit is one (the usual case). */
function codePoints(s: string): ArrayLike<string> {
  return SURROGATE.test(s) ? Array.from(s) : s;
}

/** Match result and steps packed in one number (steps × 2 + matched), so the hot path allocates nothing. */
function run(pattern: ArrayLike<string>, value: ArrayLike<string>): number {
  const p = pattern.length;
  const v = value.length;
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  let steps = 0;
  while (vi < v) {
    steps++;
    const c = pi < p ? pattern[pi] : undefined;
    if (c === '*') {
      star = pi++;
      mark = vi;
    } else if (c !== undefined && (c === '?' || c === value[vi])) {
      pi++;
      vi++;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return steps * 2;
    }
  }
  while (pi < p && pattern[pi] === '*') {
    steps++;
    pi++;
  }
  return steps * 2 + (pi === p ? 1 : 0);
}

/** True when `value` matches the DICOM wildcard `pattern` as a whole. */
export function matchWildcard(pattern: string, value: string): boolean {
  return run(codePoints(pattern), codePoints(value)) % 2 === 1;
}

/**
 * {@link matchWildcard} with the number of steps it took (tests and fuzzing check the
 * bound; the node calls {@link matchWildcard}).
 */
export function matchWildcardCounted(pattern: string, value: string): { matched: boolean; steps: number } {
  const packed = run(codePoints(pattern), codePoints(value));
  return { matched: packed % 2 === 1, steps: Math.floor(packed / 2) };
}
