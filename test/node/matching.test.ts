import assert from 'node:assert/strict';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import {
  dicomWildcardToGlob,
  dicomWildcardToRegExp,
  matchesValues,
  normalizeDate,
  normalizeDateTime,
  normalizePersonName,
  normalizeTime,
  parseMatcher,
  QueryError,
} from '../../src/node/index.js';

const key = (vr: string, value: string, keyword = 'X') => ({ keyword, vr, value });
const match = (vr: string, value: string, stored: string[]) =>
  matchesValues(parseMatcher(key(vr, value)), stored);

test('normalizers: dates, partial times padded low/high, date-times, person names', () => {
  assert.equal(normalizeDate('20240229'), '20240229');
  assert.equal(normalizeDate('2024.02.29'), '20240229');
  assert.equal(normalizeDate('20230229'), undefined);
  assert.equal(normalizeDate('20241345'), undefined);
  assert.equal(normalizeDate('2024-01-01'), undefined);
  assert.equal(normalizeTime('10'), '100000.000000');
  assert.equal(normalizeTime('10', 'high'), '109999.999999');
  assert.equal(normalizeTime('1015', 'high'), '101599.999999');
  assert.equal(normalizeTime('101530.5'), '101530.500000');
  assert.equal(normalizeTime('10:15:30'), '101530.000000');
  assert.equal(normalizeTime('2500'), undefined);
  assert.equal(normalizeTime('1061'), undefined);
  assert.equal(normalizeTime('1010.5'), undefined);
  assert.equal(normalizeDateTime('2024'), '20240101000000.000000');
  assert.equal(normalizeDateTime('2024', 'high'), '20249999999999.999999');
  assert.equal(normalizeDateTime('20240115103000.25+0100'), '20240115103000.250000');
  assert.equal(normalizeDateTime('20241301'), undefined);
  assert.equal(normalizePersonName('Doe^John^^^'), 'DOE^JOHN');
  assert.equal(normalizePersonName('Yamada^Tarou=山田^太郎'), 'YAMADA^TAROU');
});

test('universal matching: empty value and a lone *', () => {
  assert.deepEqual(parseMatcher(key('LO', '')), { kind: 'universal' });
  assert.deepEqual(parseMatcher(key('PN', '*')), { kind: 'universal' });
  assert.deepEqual(parseMatcher(key('LO', '***')), { kind: 'universal' });
  assert.deepEqual(parseMatcher(key('DA', '  ')), { kind: 'universal' });
  assert.equal(match('LO', '', []), true);
});

test('single value matching is case-sensitive except PN; trailing spaces ignored', () => {
  assert.equal(match('LO', 'ABC', ['ABC']), true);
  assert.equal(match('LO', 'ABC', ['abc']), false);
  assert.equal(match('CS', 'CT ', ['CT']), true);
  assert.equal(match('LO', ' ABC', ['ABC']), true, 'leading spaces are padding on LO');
  assert.equal(match('PN', 'doe^john', ['DOE^JOHN']), true);
  assert.equal(match('PN', 'DOE^JOHN', ['Doe^John^^']), true);
  assert.equal(match('PN', 'DOE', ['Doe^John']), false);
  assert.equal(match('LO', 'ABC', []), false, 'a missing value does not match a single value');
});

test('empty value matching: "" matches only entities without a value', () => {
  assert.deepEqual(parseMatcher(key('LO', '""')), { kind: 'empty' });
  assert.equal(match('LO', '""', []), true);
  assert.equal(match('LO', '""', ['']), true);
  assert.equal(match('LO', '""', ['X']), false);
});

test('wildcards on string VRs; refused on UI; literal elsewhere', () => {
  assert.equal(match('PN', 'do*', ['Doe^John']), true);
  assert.equal(match('PN', '*^JO?N', ['Doe^John']), true);
  assert.equal(match('LO', 'A?C', ['ABC']), true);
  assert.equal(match('LO', 'A?C', ['AC']), false);
  assert.equal(match('SH', 'A*', ['a1']), false, 'wildcard on SH stays case-sensitive');
  assert.equal(match('LO', '[x]*', ['[x]yz']), true, 'brackets are literal');
  assert.throws(() => parseMatcher(key('UI', '1.2.*')), QueryError);
});

test('list of UID matching and multi-valued keys', () => {
  const m = parseMatcher(key('UI', '1.2.3\\1.2.4'));
  assert.deepEqual(m, {
    kind: 'values',
    vr: 'UI',
    alternatives: [
      { kind: 'exact', value: '1.2.3' },
      { kind: 'exact', value: '1.2.4' },
    ],
  });
  assert.equal(matchesValues(m, ['1.2.4']), true);
  assert.equal(matchesValues(m, ['1.2.5']), false);
  assert.throws(() => parseMatcher(key('UI', '1.2.3\\abc')), /not a valid UID/);
  assert.equal(match('CS', 'MR\\CT', ['CT']), true);
  assert.equal(match('CS', 'MR\\C*', ['CR']), true);
  assert.equal(match('CS', 'MR', ['CT', 'MR']), true, 'any stored value may match');
});

test('DA range matching: closed, open-ended, single day, edge days inclusive', () => {
  assert.equal(match('DA', '20240101-20241231', ['20240101']), true);
  assert.equal(match('DA', '20240101-20241231', ['20241231']), true);
  assert.equal(match('DA', '20240101-20241231', ['20250101']), false);
  assert.equal(match('DA', '-20241231', ['19000101']), true);
  assert.equal(match('DA', '-20241231', ['20250101']), false);
  assert.equal(match('DA', '20240101-', ['29991231']), true);
  assert.equal(match('DA', '20240101-', ['20231231']), false);
  assert.equal(match('DA', '20240101-20240101', ['20240101']), true);
  assert.equal(match('DA', '20240115', ['20240115']), true);
  assert.equal(match('DA', '20240115', ['20240116']), false);
});

test('TM and DT ranges compare partial values by the span they cover', () => {
  assert.equal(match('TM', '10-11', ['115959.999']), true, 'upper bound "11" covers 11:59:59.999');
  assert.equal(match('TM', '10-11', ['12']), false);
  assert.equal(match('TM', '1030', ['103045']), true, 'a single partial time is its whole minute');
  assert.equal(match('TM', '1030', ['1031']), false);
  assert.equal(match('TM', '-0800', ['0759']), true);
  assert.equal(match('TM', '120000-', ['12']), true);
  assert.equal(match('DT', '2024-2024', ['20240615120000']), true);
  assert.equal(match('DT', '20240101-20240131', ['20240131235959.9']), true);
  assert.equal(match('DT', '20240101-20240131', ['20240201']), false);
  assert.equal(
    match('DT', '20240101120000-0500', ['20240101120000']),
    true,
    'negative UTC offset is not a range',
  );
});

test('malformed values throw QueryError (ERR_QUERY_INVALID, kind dimse)', () => {
  for (const [vr, value] of [
    ['DA', '2024-13-45x'],
    ['DA', '20241345'],
    ['DA', '20240231'],
    ['DA', '2024010'],
    ['DA', '-'],
    ['DA', '20241231-20240101'],
    ['DA', '20240101\\20240102'],
    ['TM', '25'],
    ['DT', '2024x'],
    ['IS', '1.5'],
    ['DS', 'abc'],
    ['UI', '1..2'],
  ] as const) {
    assert.throws(
      () => parseMatcher(key(vr, value, 'StudyDate')),
      (err: unknown) =>
        err instanceof QueryError &&
        err.code === 'ERR_QUERY_INVALID' &&
        err.kind === 'dimse' &&
        err.keyword === 'StudyDate',
      `${vr} ${value}`,
    );
  }
});

test('GLOB translation escapes [ only; * and ? stay wildcards', () => {
  assert.equal(dicomWildcardToGlob('A[B]*?'), 'A[[]B]*?');
  assert.ok(dicomWildcardToRegExp('a.b*').test('a.bcd'));
  assert.ok(!dicomWildcardToRegExp('a.b*').test('axbcd'));
});

test('property: SQLite GLOB of the translated pattern matches exactly what the reference regex matches', () => {
  const db = new BetterSqlite3(':memory:');
  const glob = db.prepare<[string, string], { m: number }>('SELECT ? GLOB ? AS m');
  // Alphabet rich in metacharacters of GLOB, LIKE and regex, plus non-ASCII.
  const alphabet = fc.constantFrom(
    'a',
    'B',
    '*',
    '?',
    '[',
    ']',
    '^',
    '%',
    '_',
    '\\',
    '.',
    '-',
    '!',
    'é',
    '山',
  );
  const text = fc.array(alphabet, { maxLength: 8 }).map((a) => a.join(''));
  fc.assert(
    fc.property(text, text, (pattern, value) => {
      const expected = dicomWildcardToRegExp(pattern).test(value);
      const actual = glob.get(value, dicomWildcardToGlob(pattern))?.m === 1;
      return expected === actual;
    }),
    { numRuns: 3000 },
  );
  // And the in-memory matcher agrees with both for wildcard patterns.
  fc.assert(
    fc.property(text, text, (pattern, value) => {
      // Lists ('\\') are alternatives and a missing value never matches a pattern: both tested elsewhere.
      if ((!pattern.includes('*') && !pattern.includes('?')) || pattern.includes('\\') || value === '')
        return true;
      const m = parseMatcher(key('LO', pattern));
      if (m.kind !== 'values') return true;
      return (
        matchesValues(m, [value]) === dicomWildcardToRegExp(pattern.replace(/ +$/, '')).test(value.trim())
      );
    }),
    { numRuns: 1000 },
  );
  db.close();
});
