// Issue 18, family 7: a C-STORE whose data set is truncated is refused (0xC000) with an Error
// Comment saying where it breaks off, and nothing is stored or indexed.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DimseStatusError } from '../../src/dimse/index.js';
import { startNode } from '../../src/node/node.js';
import { connect } from '../../src/services/client.js';
import { hasDcmtk } from '../helpers/dcmtk.js';
import { makeInstance } from '../helpers/samples.js';

const skip = hasDcmtk() ? false : 'DCMTK (dump2dcm) is not installed';

test(
  'a C-STORE of a truncated data set is refused with an Error Comment naming tag and offset',
  { skip },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'dicomnet-store-truncated-'));
    const node = await startNode({
      aet: 'DICOMNET',
      port: 0,
      tlsPort: false,
      host: '127.0.0.1',
      storageDir: join(work, 'storage'),
      peers: { MODALITY: { tls: false } },
    });
    t.after(async () => {
      await node.close(0);
      rmSync(work, { recursive: true, force: true });
    });
    const whole = makeInstance(join(work, 'src'), { pixelBytes: 512 });
    const cut = join(work, 'cut.dcm');
    // the pixel data element is last: 100 of its bytes are missing
    writeFileSync(cut, readFileSync(whole.path).subarray(0, -100));
    const assoc = await connect({
      host: '127.0.0.1',
      port: node.ports.plain as number,
      callingAet: 'MODALITY',
      calledAet: 'DICOMNET',
    });
    try {
      await assert.rejects(assoc.store(cut), (err: unknown) => {
        assert.ok(err instanceof DimseStatusError, String(err));
        assert.equal(err.status, 0xc000);
        assert.match(err.errorComment ?? '', /^data set truncated: \(7FE0,0010\) at offset \d+$/);
        assert.ok((err.errorComment ?? '').length <= 64);
        return true;
      });
      // the same association stores the whole instance afterwards
      await assoc.store(whole.path);
    } finally {
      await assoc.release();
    }
    const files = readdirSync(join(work, 'storage'), { recursive: true }).filter((f) =>
      String(f).endsWith('.dcm'),
    );
    assert.equal(files.length, 1);
  },
);
