import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type DicomJsonObject,
  dicomWildcardToRegExp,
  matchWildcard,
  MAX_WILDCARD_ALTERNATIVES,
  parseMatcher,
  QueryError,
  SqliteIndex,
} from '../../src/node/index.js';
import { matchWildcardCounted } from '../../src/node/wildcard.js';
import { referenceWildcardMatch, wildcardStepBound } from '../helpers/wildcard-reference.js';

const key = (vr: string, value: string, keyword = 'PatientID') => ({ keyword, vr, value });

test('matchWildcard: * any run, ? one code point, the rest literal, the whole value', () => {
  const cases: [string, string, boolean][] = [
    ['', '', true],
    ['*', '', true],
    ['?', '', false],
    ['a*', 'abc', true],
    ['*c', 'abc', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*b*', 'abc', true],
    ['a.b*', 'a.bcd', true],
    ['a.b*', 'axbcd', false],
    ['[a]*', '[a]x', true],
    ['?', '😀', true],
    ['??', '😀', false],
    ['*😀?', 'x😀é', true],
    ['ab', 'abc', false],
    ['*?*?*?#', 'DOE^JOHN', false],
  ];
  for (const [pattern, value, expected] of cases) {
    assert.equal(matchWildcard(pattern, value), expected, `${pattern} vs ${value}`);
    assert.equal(dicomWildcardToRegExp(pattern).test(value), expected, `reference: ${pattern} vs ${value}`);
  }
});

test('property: matchWildcard agrees with the regex reference and the dynamic program, within pattern × value steps', () => {
  const alphabet = fc.constantFrom('a', 'B', '*', '?', '[', '.', '\\', '^', 'é', '😀');
  const text = fc.array(alphabet, { maxLength: 10 }).map((a) => a.join(''));
  fc.assert(
    fc.property(text, text, (pattern, value) => {
      const { matched, steps } = matchWildcardCounted(pattern, value);
      return (
        matched === dicomWildcardToRegExp(pattern).test(value) &&
        matched === referenceWildcardMatch(pattern, value) &&
        steps <= wildcardStepBound(pattern, value)
      );
    }),
    { numRuns: 3000 },
  );
});

test('the *?*?…# pattern that made the regex exponential takes pattern × value steps', () => {
  const pattern = `${'*?'.repeat(32).slice(0, 63)}#`;
  const value = 'W0001234-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
  const { matched, steps } = matchWildcardCounted(pattern, value);
  assert.equal(matched, false);
  assert.ok(steps <= wildcardStepBound(pattern, value), `${steps} steps`);
});

test('keys longer than their VR allows are refused, naming the key and never the value', () => {
  const secret = 'S'.repeat(65);
  const refusals: [string, string, string][] = [
    ['LO', secret, 'PatientID'],
    ['SH', 'A'.repeat(17), 'AccessionNumber'],
    ['AE', 'B'.repeat(17), 'ScheduledStationAETitle'],
    ['CS', 'C'.repeat(17), 'Modality'],
    ['PN', `${'D'.repeat(65)}`, 'PatientName'],
    ['PN', `Doe=${'E'.repeat(65)}`, 'PatientName'],
    ['LO', `OK\\${secret}`, 'PatientID'],
    // a lone run of * is universal matching, but still bounded by its VR
    ['LO', '*'.repeat(65), 'PatientID'],
    ['UI', `1.${'2'.repeat(64)}`, 'StudyInstanceUID'],
  ];
  for (const [vr, value, keyword] of refusals) {
    assert.throws(
      () => parseMatcher(key(vr, value, keyword)),
      (err: unknown) =>
        err instanceof QueryError &&
        err.keyword === keyword &&
        err.message.includes(keyword) &&
        !err.message.includes(value.slice(-20)),
      `${vr} ${value.length}`,
    );
  }
  // the longest values their VR allows are accepted
  assert.equal(parseMatcher(key('LO', `${'*?'.repeat(32).slice(0, 63)}#`)).kind, 'values');
  assert.equal(parseMatcher(key('PN', `${'F'.repeat(64)}=${'G'.repeat(64)}`, 'PatientName')).kind, 'values');
  assert.equal(parseMatcher(key('LO', '山'.repeat(64))).kind, 'values', 'characters, not bytes');
});

test('wildcard patterns are bounded on every VR: 64 characters, 16 per key', () => {
  assert.throws(() => parseMatcher(key('LT', `${'*a'.repeat(40)}`, 'PatientComments')), {
    name: 'QueryError',
    message: /PatientComments \(LT\): a wildcard pattern may hold at most 64 characters/,
  });
  assert.equal(
    parseMatcher(key('LT', 'x'.repeat(2000), 'PatientComments')).kind,
    'values',
    'exact values may be long',
  );
  const many = Array.from({ length: MAX_WILDCARD_ALTERNATIVES + 1 }, (_, i) => `A${i}*`).join('\\');
  assert.throws(() => parseMatcher(key('LO', many)), /at most 16 wildcard values per key/);
  const enough = Array.from({ length: MAX_WILDCARD_ALTERNATIVES }, (_, i) => `A${i}*`).join('\\');
  assert.equal(parseMatcher(key('LO', enough)).kind, 'values');
});

function worklistItem(i: number): DicomJsonObject {
  const id = `W${String(i).padStart(7, '0')}-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345`;
  return {
    '00100010': { vr: 'PN', Value: [{ Alphabetic: `Patient^Number${i}^Middle^Title` }] },
    '00100020': { vr: 'LO', Value: [id] },
    '00400100': {
      vr: 'SQ',
      Value: [{ '00400001': { vr: 'AE', Value: ['CT1'] }, '00400009': { vr: 'SH', Value: [`SPS${i}`] } }],
    },
  };
}

test('worklist: the worst wildcard key against 10 000 items answers at once and never holds the event loop', async () => {
  const index = new SqliteIndex(':memory:');
  index.db.transaction(() => {
    for (let i = 0; i < 10_000; i++) index.worklist.add(`sps-${i}`, worklistItem(i));
  })();
  const worst = `${'*?'.repeat(32).slice(0, 63)}#`;
  // CPU time between two timer ticks is how long the loop was held: on a loaded machine the
  // wall-clock gaps also count the time the process waited for a core
  let longestGap = 0;
  let last = process.cpuUsage();
  const ticker = setInterval(() => {
    const used = process.cpuUsage(last);
    longestGap = Math.max(longestGap, (used.user + used.system) / 1000);
    last = process.cpuUsage();
  }, 1);
  const started = performance.now();
  const matches = await index.findWorklist([
    { keyword: 'PatientID', vr: 'LO', value: worst },
    { keyword: 'PatientName', vr: 'PN', value: `${'*?'.repeat(32).slice(0, 63)}#` },
    {
      keyword: 'ScheduledProcedureStepSequence',
      vr: 'SQ',
      value: '',
      items: [{ keyword: 'ScheduledProcedureStepID', vr: 'SH', value: '*?*?*?*?*?*?*?*#' }],
    },
  ]);
  const elapsed = performance.now() - started;
  clearInterval(ticker);
  assert.deepEqual(matches, []);
  // generous bounds for a loaded 2-core machine: the regex took years here, the matcher ~0.1 s
  assert.ok(elapsed < 10_000, `find took ${elapsed.toFixed(0)} ms`);
  assert.ok(longestGap < 100, `the event loop was held for ${longestGap.toFixed(0)} ms of CPU at once`);
  // the same items are found by a pattern that matches
  const some = await index.findWorklist([{ keyword: 'PatientID', vr: 'LO', value: 'W000012?-*' }]);
  assert.equal(some.length, 10);
  index.close();
});
