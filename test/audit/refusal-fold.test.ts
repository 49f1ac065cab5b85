/** Admission refusals are audited at most once per address, limit and window, with the count folded in. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FoldedRefusals, RefusalFolder } from '../../src/node/refusal-audit.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RefusalFolder', () => {
  test('the first refusal is recorded at once, the rest of the window in one record carrying their number', async () => {
    const records: FoldedRefusals[] = [];
    const folder = new RefusalFolder((r) => records.push(r), { windowMs: 150 });
    for (let i = 0; i < 300; i++)
      folder.refused('10.0.0.1', 'maxAssociationsPerMinutePerAddress', `refusal ${i}`);
    folder.refused('10.0.0.1', 'maxPendingConnections', 'pending');
    folder.refused('10.0.0.2', 'maxAssociationsPerMinutePerAddress', 'other address');
    assert.deepEqual(
      records.map((r) => [r.remoteAddress, r.limit, r.refusals, r.reason]),
      [
        ['10.0.0.1', 'maxAssociationsPerMinutePerAddress', 1, 'refusal 0'],
        ['10.0.0.1', 'maxPendingConnections', 1, 'pending'],
        ['10.0.0.2', 'maxAssociationsPerMinutePerAddress', 1, 'other address'],
      ],
    );
    await sleep(250);
    assert.equal(
      records.length,
      4,
      'one more record when the window is over, only where refusals were folded',
    );
    assert.deepEqual(records[3], {
      remoteAddress: '10.0.0.1',
      limit: 'maxAssociationsPerMinutePerAddress',
      refusals: 299,
      reason: 'refusal 299',
    });
    // the next window: folded again, not recorded at once
    folder.refused('10.0.0.1', 'maxAssociationsPerMinutePerAddress', 'again');
    assert.equal(records.length, 4);
    await sleep(400);
    assert.equal(records.length, 5);
    assert.equal(records[4]?.refusals, 1);
    // two quiet windows later the address is forgotten: its next refusal is recorded at once
    folder.refused('10.0.0.1', 'maxAssociationsPerMinutePerAddress', 'after a pause');
    assert.equal(records.length, 6);
    assert.equal(records[5]?.reason, 'after a pause');
    folder.flush();
  });

  test('flush records what is folded (the node stops) and forgets everything', () => {
    const records: FoldedRefusals[] = [];
    const folder = new RefusalFolder((r) => records.push(r), { windowMs: 60_000 });
    for (let i = 0; i < 10; i++) folder.refused('10.0.0.1', 'maxTlsHandshakes', 'busy');
    folder.refused('10.0.0.2', 'maxTlsHandshakes', 'busy');
    folder.flush();
    assert.deepEqual(
      records.map((r) => [r.remoteAddress, r.refusals]),
      [
        ['10.0.0.1', 1],
        ['10.0.0.2', 1],
        ['10.0.0.1', 9],
      ],
    );
    folder.flush();
    assert.equal(records.length, 3);
  });

  test('a flood from very many addresses: beyond maxTracked they share one entry per limit', () => {
    const records: FoldedRefusals[] = [];
    const folder = new RefusalFolder((r) => records.push(r), { windowMs: 60_000, maxTracked: 10 });
    for (let i = 0; i < 5000; i++)
      folder.refused(`10.0.${i >> 8}.${i & 255}`, 'maxPendingConnections', `n${i}`);
    assert.equal(records.length, 11, '10 tracked addresses and one shared entry');
    assert.equal(records[10]?.remoteAddress, undefined);
    folder.flush();
    assert.equal(records.length, 12);
    assert.equal(records[11]?.refusals, 5000 - 11);
    assert.equal(records[11]?.reason, 'n4999');
  });
});
