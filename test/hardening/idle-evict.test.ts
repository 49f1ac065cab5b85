/**
 * Idle associations from one address must not crowd out others (issue 16 item 7): when the
 * node is at `maxAssociations`, the association idle longest (at least `idleEvictSeconds`)
 * is aborted (A-ABORT, logged) to admit a newcomer; the per-address cap still holds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodePdu } from '../../src/network/pdu/encode.js';
import { emptyUserInformation } from '../../src/network/pdu/types.js';
import { AssociationSlots, isSlotRefusal, type SlotLease } from '../../src/services/association-slots.js';
import { hasDcmtk } from '../helpers/dcmtk.js';
import { echoscuSucceeds, eventually, rawSocket, startHardenedServe } from './helpers.js';

const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';

function echoAssociateRq(): Buffer {
  const userInfo = emptyUserInformation();
  userInfo.maxLength = 16384;
  userInfo.implementationClassUid = '1.2.3.4';
  return encodePdu({
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: 1,
    calledAet: 'DICOMNET',
    callingAet: 'IDLER',
    applicationContext: '1.2.840.10008.3.1.1.1',
    presentationContexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
    userInfo,
  });
}

/** A raw peer that requests an association and records the PDU types it receives. */
async function rawAssociation(
  port: number,
  from: string,
): Promise<{ socket: Socket; types: number[]; closed: () => boolean }> {
  const socket = await rawSocket(port, from);
  const types: number[] = [];
  let buffered = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 6) {
      const length = buffered.readUInt32BE(2);
      if (buffered.length < 6 + length) break;
      types.push(buffered[0] as number);
      buffered = buffered.subarray(6 + length);
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  socket.write(echoAssociateRq());
  await eventually(() => types.length > 0 || closed, `an answer to the A-ASSOCIATE-RQ from ${from}`, 20_000);
  return { socket, types, closed: () => closed };
}

describe(
  'idle eviction at the association cap',
  { skip: hasDcmtk() ? false : 'DCMTK is not installed' },
  () => {
    test('spawned serve: idle associations from one address give a slot to echoscu from another', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dicomnet-evict-'));
      const serve = await startHardenedServe({
        dir,
        config: { limits: { maxAssociations: 4, maxAssociationsPerAddress: 4, idleEvictSeconds: 1 } },
      });
      const idlers: Awaited<ReturnType<typeof rawAssociation>>[] = [];
      try {
        for (let i = 0; i < 4; i++) {
          const a = await rawAssociation(serve.port, '127.0.0.9');
          assert.deepEqual(a.types, [0x02], `idle association ${i} accepted`);
          idlers.push(a);
        }
        // the per-address cap is kept: a fifth from the same address is rejected, nobody is evicted
        const fifth = await rawAssociation(serve.port, '127.0.0.9');
        assert.deepEqual(fifth.types, [0x03], 'A-ASSOCIATE-RJ for the fifth from the same address');
        fifth.socket.destroy();
        await new Promise((r) => setTimeout(r, 1500));
        // today: rejected (local limit exceeded) for as long as the idle ones stay (idleTimeoutSeconds 300)
        await echoscuSucceeds(serve.port);
        await eventually(() => idlers.filter((a) => a.closed()).length === 1, 'one idle association aborted');
        const evicted = idlers.find((a) => a.closed());
        assert.deepEqual(evicted?.types, [0x02, 0x07], 'the evicted one received an A-ABORT');
        await eventually(
          () =>
            serve
              .logLines()
              .some((l) => /aborted \(A-ABORT\): idle for \d+ s .*maxAssociations 4/.test(String(l.msg))),
          'the eviction logged',
        );
        // the others still hold their slots: still 3 idle + echoscu's turn; a second echoscu evicts another
        await echoscuSucceeds(serve.port);
      } finally {
        for (const a of idlers) a.socket.destroy();
        await serve.stop();
      }
    });
  },
);

describe('AssociationSlots', () => {
  test('at the cap, the longest-idle evictable slot goes; busy, recent and unestablished ones stay', () => {
    let now = 0;
    const evicted: string[] = [];
    const pool = new AssociationSlots({ maxAssociations: 3, idleEvictMs: 30_000 }, () => now);
    const lease = (address: string, name: string, establish = true): SlotLease => {
      const l = pool.acquire(address);
      assert.ok(!isSlotRefusal(l), `slot for ${name}`);
      if (establish) l.evictable(() => evicted.push(name));
      return l;
    };
    const a = lease('10.0.0.1', 'a');
    now = 1000;
    const b = lease('10.0.0.1', 'b');
    now = 2000;
    lease('10.0.0.1', 'c', false);
    now = 20_000;
    const early = pool.acquire('10.0.0.2');
    assert.ok(isSlotRefusal(early) && /3 associations running \(maxAssociations 3\)/.test(early.refused));
    a.busy(1);
    now = 40_000;
    assert.ok(
      !isSlotRefusal(pool.acquire('10.0.0.2')),
      'b (idle 39 s) is evicted; a is busy, c not established',
    );
    assert.deepEqual(evicted, ['b']);
    b.release();
    assert.equal(pool.active, 3);
    a.busy(-1);
    now = 60_000;
    assert.ok(isSlotRefusal(pool.acquire('10.0.0.3')), 'a ended its operation 20 s ago: not idle enough');
    now = 71_000;
    assert.ok(!isSlotRefusal(pool.acquire('10.0.0.3')));
    assert.deepEqual(evicted, ['b', 'a']);
  });

  test('the per-address cap is never lifted by eviction; no idleEvictMs: no eviction', () => {
    let now = 0;
    const pool = new AssociationSlots(
      { maxAssociations: 2, maxAssociationsPerAddress: 2, idleEvictMs: 1000 },
      () => now,
    );
    for (let i = 0; i < 2; i++) {
      const l = pool.acquire('10.0.0.1');
      assert.ok(!isSlotRefusal(l));
      l.evictable(() => undefined);
    }
    now = 10_000;
    const same = pool.acquire('10.0.0.1');
    assert.ok(
      isSlotRefusal(same) &&
        /2 associations running from 10\.0\.0\.1 \(maxAssociationsPerAddress 2\)/.test(same.refused),
    );
    const never = new AssociationSlots({ maxAssociations: 1 }, () => now);
    const only = never.acquire('10.0.0.1');
    assert.ok(!isSlotRefusal(only));
    only.evictable(() => assert.fail('evicted without idleEvictMs'));
    now = 1e9;
    assert.ok(isSlotRefusal(never.acquire('10.0.0.2')));
  });
});
