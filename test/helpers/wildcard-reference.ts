/**
 * A reference DICOM wildcard matcher for tests: the textbook dynamic program over code
 * points (`*` any run, `?` one character), written independently of src/node/wildcard.ts.
 */
export function referenceWildcardMatch(pattern: string, value: string): boolean {
  const p = Array.from(pattern);
  const v = Array.from(value);
  // row[j]: does p[0..i) match v[0..j)
  let row = new Array<boolean>(v.length + 1).fill(false);
  row[0] = true;
  for (const c of p) {
    const next = new Array<boolean>(v.length + 1).fill(false);
    if (c === '*') {
      next[0] = row[0] === true;
      for (let j = 1; j <= v.length; j++) next[j] = row[j] === true || next[j - 1] === true;
    } else {
      for (let j = 1; j <= v.length; j++) next[j] = row[j - 1] === true && (c === '?' || c === v[j - 1]);
    }
    row = next;
  }
  return row[v.length] === true;
}

/** The step bound of the two-pointer matcher: (pattern length + 1) × (value length + 1), in code points. */
export function wildcardStepBound(pattern: string, value: string): number {
  return (Array.from(pattern).length + 1) * (Array.from(value).length + 1);
}
