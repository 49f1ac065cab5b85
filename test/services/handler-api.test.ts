import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  connect,
  Dataset,
  DicomServer,
  DimseStatusError,
  type HandlerErrorContext,
  Status,
  TransferSyntax,
  writePart10,
} from '../../src/index.js';
import { scratch, startServer } from './helpers.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';

async function instance(dir: string, uid: string): Promise<string> {
  const file = join(dir, `${uid}.dcm`);
  const ds = new Dataset()
    .set('SOPClassUID', CT)
    .set('SOPInstanceUID', uid)
    .set('PatientID', 'P1')
    .set('StudyInstanceUID', '2.25.7')
    .set('SeriesInstanceUID', '2.25.8');
  await writePart10(file, ds, { transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian });
  return file;
}

function storeContexts() {
  return [{ abstractSyntax: CT, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] }];
}

describe('store handlers as a library user writes them', () => {
  const servers: DicomServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test('a handler that destructures its argument works: readDataset is usable detached', async () => {
    let seen: string | undefined;
    const { server, port } = await startServer({
      handlers: {
        store: async ({ sopInstanceUid, readDataset, association }) => {
          const ds = await readDataset();
          seen = `${ds.getString('SOPInstanceUID')}|${sopInstanceUid}|${association.callingAet}`;
          return Status.Success;
        },
      },
    });
    servers.push(server);
    const file = await instance(scratch('handler'), '2.25.101');
    const assoc = await connect({
      host: '127.0.0.1',
      port,
      callingAet: 'ME',
      calledAet: 'DICOMNET',
      contexts: storeContexts(),
    });
    await assoc.store(file);
    await assoc.release();
    assert.equal(seen, '2.25.101|2.25.101|ME');
  });

  test("a handler that throws: the requestor gets its message as Error Comment, the server emits 'handlerError'", async () => {
    const { server, port } = await startServer({
      handlers: {
        store: () => {
          throw new Error('archive is read-only');
        },
      },
    });
    servers.push(server);
    const reported: [unknown, HandlerErrorContext][] = [];
    server.on('handlerError', (err, context) => reported.push([err, context]));
    const file = await instance(scratch('throws'), '2.25.102');
    const assoc = await connect({
      host: '127.0.0.1',
      port,
      callingAet: 'ME',
      calledAet: 'DICOMNET',
      contexts: storeContexts(),
    });
    const err = await assoc.store(file).catch((e: unknown) => e);
    await assoc.release();
    assert.ok(err instanceof DimseStatusError, String(err));
    assert.equal(err.status, Status.OutOfResources);
    assert.equal(err.errorComment, 'archive is read-only');
    assert.match(err.message, /archive is read-only/);
    assert.equal(reported.length, 1);
    assert.equal((reported[0]?.[0] as Error).message, 'archive is read-only');
    assert.equal(reported[0]?.[1].service, 'store');
    assert.equal(reported[0]?.[1].association.callingAet, 'ME');
  });

  test('a handler may answer { status, errorComment }', async () => {
    const { server, port } = await startServer({
      handlers: { store: () => ({ status: 0xa700, errorComment: 'quota exceeded for ME' }) },
    });
    servers.push(server);
    const file = await instance(scratch('comment'), '2.25.103');
    const assoc = await connect({
      host: '127.0.0.1',
      port,
      callingAet: 'ME',
      calledAet: 'DICOMNET',
      contexts: storeContexts(),
    });
    const err = (await assoc.store(file).catch((e: unknown) => e)) as DimseStatusError;
    await assoc.release();
    assert.equal(err.errorComment, 'quota exceeded for ME');
  });

  test('DicomServer events are typed', () => {
    const server = new DicomServer({ aet: 'X' });
    // @ts-expect-error: a misspelt event name does not compile
    server.on('secureLinkRaedy', () => undefined);
    server.on('secureLinkReady', (info, peer) => {
      const protocol: string = info.protocol;
      const address: string = peer.remoteAddress;
      return [protocol, address];
    });
    server.on('associationRejected', (r) => r.reason satisfies number);
    server.removeAllListeners();
  });
});
