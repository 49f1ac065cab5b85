import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TransferSyntax } from '../../src/data/index.js';
import { openAssociation } from '../../src/network/transport.js';
import { startNode } from '../../src/node/node.js';
import { SopClass } from '../../src/services/sop-classes.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SC = '1.2.840.10008.5.1.4.1.1.7';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

test('accept: only the configured storage SOP classes and transfer syntaxes are accepted; other services unaffected', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-serve-accept-'));
  const node = await startNode({
    aet: 'DICOMNET',
    port: 0,
    tlsPort: false,
    host: '127.0.0.1',
    storageDir: join(work, 'storage'),
    accept: { sopClasses: [CT], transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] },
    peers: { MODALITY: { tls: false } },
  });
  t.after(async () => {
    await node.close(0);
    rmSync(work, { recursive: true, force: true });
  });
  const { channel } = await openAssociation({
    host: '127.0.0.1',
    port: node.ports.plain as number,
    callingAet: 'MODALITY',
    calledAet: 'DICOMNET',
    contexts: [
      {
        abstractSyntax: CT,
        transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian, TransferSyntax.ExplicitVRLittleEndian],
      },
      { abstractSyntax: CT, transferSyntaxes: [JPEG_BASELINE] },
      { abstractSyntax: SC, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] },
      { abstractSyntax: SopClass.Verification, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] },
      { abstractSyntax: SopClass.StudyRootFind, transferSyntaxes: [TransferSyntax.ImplicitVRLittleEndian] },
    ],
  });
  try {
    const results = [...channel.negotiated.contexts.values()].map((c) => [
      c.abstractSyntax,
      c.result,
      c.transferSyntax,
    ]);
    assert.deepEqual(results, [
      [CT, 0, TransferSyntax.ExplicitVRLittleEndian],
      [CT, 4, undefined],
      [SC, 3, undefined],
      [SopClass.Verification, 0, TransferSyntax.ImplicitVRLittleEndian],
      [SopClass.StudyRootFind, 0, TransferSyntax.ImplicitVRLittleEndian],
    ]);
  } finally {
    await channel.release();
  }
});
