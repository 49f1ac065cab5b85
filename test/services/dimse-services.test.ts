/**
 * dicomnet ↔ dicomnet in one process: the N-services through Association.request()
 * and the nService handler, C-CANCEL of a C-FIND, C-GET sub-operation counts, and
 * an asynchronous operations window that really overlaps operations.
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Dataset, datasetFromKeywords } from '../../src/data/index.js';
import { CommandField, DimseEndpoint, Status } from '../../src/dimse/index.js';
import { openAssociation } from '../../src/network/transport.js';
import { type Association, connect, type RetrieveProgress } from '../../src/services/client.js';
import type { DicomServer, NRequest, ServerAssociation } from '../../src/services/server.js';
import { SopClass } from '../../src/services/sop-classes.js';
import { hasDcmtk } from '../helpers/dcmtk.js';
import { makeStudy } from '../helpers/samples.js';
import { ECHO_CONTEXTS, eventually, filesIn, scratch, startServer } from './helpers.js';

const MPPS = SopClass.ModalityPerformedProcedureStep;
const COMMITMENT = SopClass.StorageCommitmentPushModel;
const COMMITMENT_INSTANCE = SopClass.StorageCommitmentPushModelInstance;

describe('N-services through Association.request() and the nService handler', () => {
  let server: DicomServer;
  let port: number;
  let assoc: Association;
  const seen: NRequest[] = [];
  let peer: ServerAssociation | undefined;

  before(async () => {
    ({ server, port } = await startServer({
      handlers: {
        nService: async (request, ctx) => {
          seen.push(request);
          peer = ctx.peer;
          const name = request.dataset?.getString('PatientName');
          switch (request.commandField) {
            case CommandField.N_CREATE_RQ:
              return {
                status: Status.Success,
                sopInstanceUid: request.sopInstanceUid ?? '2.25.42',
                dataset: datasetFromKeywords({
                  PatientName: name ?? '',
                  PerformedProcedureStepStatus: 'IN PROGRESS',
                }),
              };
            case CommandField.N_GET_RQ:
              return {
                status: Status.Success,
                dataset: datasetFromKeywords({ PerformedProcedureStepStatus: 'COMPLETED' }),
              };
            case CommandField.N_DELETE_RQ:
              return { status: 0x0112 }; // No such SOP instance
            default:
              return { status: Status.Success };
          }
        },
      },
    }));
    assoc = await connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET' });
  });

  after(async () => {
    await assoc?.release().catch(() => undefined);
    await server?.close();
  });

  test('N-CREATE: instance UID and data set both ways', async () => {
    const rsp = await assoc.request(
      MPPS,
      {
        commandField: CommandField.N_CREATE_RQ,
        affectedSopClassUid: MPPS,
        affectedSopInstanceUid: '2.25.7',
        hasDataset: true,
      },
      datasetFromKeywords({ PatientName: 'Doe^Jane' }),
    );
    assert.equal(rsp.command.commandField, CommandField.N_CREATE_RSP);
    assert.equal(rsp.command.status, Status.Success);
    assert.equal(rsp.command.affectedSopInstanceUid, '2.25.7');
    assert.equal(rsp.dataset?.getString('PerformedProcedureStepStatus'), 'IN PROGRESS');
    assert.equal(rsp.dataset?.getString('PatientName'), 'Doe^Jane');
    const rq = seen.at(-1) as NRequest;
    assert.equal(rq.sopClassUid, MPPS);
    assert.equal(rq.sopInstanceUid, '2.25.7');
  });

  test('N-SET: requested SOP instance and modification list', async () => {
    const rsp = await assoc.request(
      MPPS,
      {
        commandField: CommandField.N_SET_RQ,
        requestedSopClassUid: MPPS,
        requestedSopInstanceUid: '2.25.7',
        hasDataset: true,
      },
      datasetFromKeywords({ PerformedProcedureStepStatus: 'COMPLETED' }),
    );
    assert.equal(rsp.command.commandField, CommandField.N_SET_RSP);
    assert.equal(rsp.command.status, Status.Success);
    const rq = seen.at(-1) as NRequest;
    assert.equal(rq.commandField, CommandField.N_SET_RQ);
    assert.equal(rq.sopInstanceUid, '2.25.7');
    assert.equal(rq.dataset?.getString('PerformedProcedureStepStatus'), 'COMPLETED');
  });

  test('N-GET: attribute identifier list in, attributes out', async () => {
    const rsp = await assoc.request(MPPS, {
      commandField: CommandField.N_GET_RQ,
      requestedSopClassUid: MPPS,
      requestedSopInstanceUid: '2.25.7',
      attributeIdentifierList: [0x00400252],
      hasDataset: false,
    });
    assert.equal(rsp.command.commandField, CommandField.N_GET_RSP);
    assert.equal(rsp.dataset?.getString('PerformedProcedureStepStatus'), 'COMPLETED');
    assert.deepEqual(seen.at(-1)?.attributeIdentifierList, [0x00400252]);
  });

  test('N-ACTION: action type ID echoed in the response', async () => {
    const rsp = await assoc.request(
      COMMITMENT,
      {
        commandField: CommandField.N_ACTION_RQ,
        requestedSopClassUid: COMMITMENT,
        requestedSopInstanceUid: COMMITMENT_INSTANCE,
        actionTypeId: 1,
        hasDataset: true,
      },
      datasetFromKeywords({ TransactionUID: '2.25.99' }),
    );
    assert.equal(rsp.command.commandField, CommandField.N_ACTION_RSP);
    assert.equal(rsp.command.actionTypeId, 1);
    assert.equal(rsp.command.status, Status.Success);
    const rq = seen.at(-1) as NRequest;
    assert.equal(rq.actionTypeId, 1);
    assert.equal(rq.sopInstanceUid, COMMITMENT_INSTANCE);
    assert.equal(rq.dataset?.getString('TransactionUID'), '2.25.99');
  });

  test('N-EVENT-REPORT from the requestor: event type ID echoed', async () => {
    const rsp = await assoc.request(
      COMMITMENT,
      {
        commandField: CommandField.N_EVENT_REPORT_RQ,
        affectedSopClassUid: COMMITMENT,
        affectedSopInstanceUid: COMMITMENT_INSTANCE,
        eventTypeId: 2,
        hasDataset: true,
      },
      datasetFromKeywords({ TransactionUID: '2.25.99' }),
    );
    assert.equal(rsp.command.commandField, CommandField.N_EVENT_REPORT_RSP);
    assert.equal(rsp.command.eventTypeId, 2);
    assert.equal(seen.at(-1)?.eventTypeId, 2);
  });

  test('N-DELETE: a failure status reaches the requestor as the status, not an exception', async () => {
    const rsp = await assoc.request(MPPS, {
      commandField: CommandField.N_DELETE_RQ,
      requestedSopClassUid: MPPS,
      requestedSopInstanceUid: '2.25.8',
      hasDataset: false,
    });
    assert.equal(rsp.command.commandField, CommandField.N_DELETE_RSP);
    assert.equal(rsp.command.status, 0x0112);
  });

  test('N-EVENT-REPORT from the server on the same association (ServerAssociation.request)', async () => {
    assert.ok(peer);
    // The requestor has no N-EVENT-REPORT handler: it answers "unrecognized operation", which must arrive.
    const rsp = await peer.request(
      COMMITMENT,
      {
        commandField: CommandField.N_EVENT_REPORT_RQ,
        affectedSopClassUid: COMMITMENT,
        affectedSopInstanceUid: COMMITMENT_INSTANCE,
        eventTypeId: 1,
        hasDataset: true,
      },
      datasetFromKeywords({ TransactionUID: '2.25.99' }),
    );
    assert.equal(rsp.commandField, CommandField.N_EVENT_REPORT_RSP);
    assert.equal(rsp.status, Status.UnrecognizedOperation);
  });
});

describe('N-EVENT-REPORT from the server to a requestor with onEventReport', () => {
  test('storage commitment style: N-ACTION in, N-EVENT-REPORT back on the same association', async () => {
    const { server, port } = await startServer({
      handlers: {
        nService: async (request, ctx) => {
          if (request.commandField === CommandField.N_ACTION_RQ) {
            const uid = request.dataset?.getString('TransactionUID') ?? '';
            // answer the N-ACTION first, then report the outcome
            setImmediate(() => {
              void ctx.peer.request(
                COMMITMENT,
                {
                  commandField: CommandField.N_EVENT_REPORT_RQ,
                  affectedSopClassUid: COMMITMENT,
                  affectedSopInstanceUid: COMMITMENT_INSTANCE,
                  eventTypeId: 1,
                  hasDataset: true,
                },
                datasetFromKeywords({ TransactionUID: uid }),
              );
            });
          }
          return { status: Status.Success };
        },
      },
    });
    try {
      let report: { eventTypeId?: number; uid?: string } | undefined;
      const got = new Promise<void>((resolve) => {
        void connect({
          host: '127.0.0.1',
          port,
          calledAet: 'DICOMNET',
          onEventReport: (r) => {
            report = { eventTypeId: r.eventTypeId, uid: r.dataset?.getString('TransactionUID') };
            resolve();
            return Status.Success;
          },
        }).then(async (assoc) => {
          await assoc.request(
            COMMITMENT,
            {
              commandField: CommandField.N_ACTION_RQ,
              requestedSopClassUid: COMMITMENT,
              requestedSopInstanceUid: COMMITMENT_INSTANCE,
              actionTypeId: 1,
              hasDataset: true,
            },
            datasetFromKeywords({ TransactionUID: '2.25.555' }),
          );
          await got;
          await assoc.release();
        });
      });
      await got;
      assert.deepEqual(report, { eventTypeId: 1, uid: '2.25.555' });
    } finally {
      await server.close(2000);
    }
  });
});

describe('C-CANCEL of a C-FIND with many pending matches', () => {
  let server: DicomServer;
  let port: number;
  let handlerSawAbort = 0;
  let yielded = 0;

  before(async () => {
    ({ server, port } = await startServer({
      handlers: {
        find: async function* (_query: Dataset, ctx) {
          for (let i = 0; i < 100_000; i++) {
            if (ctx.signal.aborted) {
              handlerSawAbort++;
              return;
            }
            yielded++;
            yield datasetFromKeywords({ PatientID: `P${i}`, QueryRetrieveLevel: 'STUDY' });
            if (i % 50 === 0) await new Promise((r) => setImmediate(r));
          }
        },
      },
    }));
  });

  after(async () => {
    await server?.close();
  });

  test('the handler sees the signal and the final status is Cancel (FE00)', async () => {
    const { channel } = await openAssociation({
      host: '127.0.0.1',
      port,
      calledAet: 'DICOMNET',
      contexts: [{ abstractSyntax: SopClass.StudyRootFind, transferSyntaxes: ['1.2.840.10008.1.2.1'] }],
    });
    const endpoint = new DimseEndpoint(channel);
    const { encodeDataset } = await import('../../src/data/index.js');
    const req = endpoint.request({
      contextId: 1,
      command: {
        commandField: CommandField.C_FIND_RQ,
        affectedSopClassUid: SopClass.StudyRootFind,
        priority: 0,
        hasDataset: true,
      },
      dataset: encodeDataset(
        datasetFromKeywords({ QueryRetrieveLevel: 'STUDY', PatientID: '' }),
        '1.2.840.10008.1.2.1',
      ),
    });
    let pending = 0;
    const statuses: number[] = [];
    for await (const rsp of req) {
      statuses.push(rsp.command.status ?? -1);
      if (rsp.command.status === Status.Pending) pending++;
      if (pending === 10) req.cancel();
    }
    assert.equal(statuses.at(-1), Status.Cancel, `final status ${statuses.at(-1)?.toString(16)}`);
    assert.ok(pending >= 10);
    assert.ok(yielded < 100_000, `the handler stopped early (${yielded} matches)`);
    await eventually(() => handlerSawAbort === 1, 'the handler saw signal.aborted');
    await channel.release();
  });

  test('Association.find with an AbortSignal ends quietly after cancel', async () => {
    const assoc = await connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET' });
    const controller = new AbortController();
    let n = 0;
    for await (const _ of assoc.find(
      { QueryRetrieveLevel: 'STUDY', PatientID: '' },
      { signal: controller.signal },
    )) {
      n++;
      if (n === 5) controller.abort();
    }
    assert.ok(n >= 5 && n < 100_000);
    await assoc.echo(); // the association is still usable
    await assoc.release();
  });
});

describe(
  'C-GET and the asynchronous operations window',
  {
    skip: hasDcmtk() ? false : 'DCMTK (dump2dcm) is not installed',
  },
  () => {
    let server: DicomServer;
    let port: number;
    let tempDir: string;
    let files: string[];
    let inFlight = 0;
    let maxInFlight = 0;

    before(async () => {
      files = makeStudy(scratch('get-study'), 5, { pixelBytes: 4096 }).map((f) => f.path);
      ({ server, port, tempDir } = await startServer({
        maxOperations: 8,
        handlers: {
          echo: async () => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await new Promise((r) => setTimeout(r, 100));
            inFlight--;
            return Status.Success;
          },
          store: async () => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await new Promise((r) => setTimeout(r, 20));
            inFlight--;
            return Status.Success;
          },
          get: async (query) =>
            query.getString('PatientID') === 'NONE' ? [] : [...files, '/nonexistent/file.dcm'],
        },
      }));
    });

    after(async () => {
      await server?.close();
    });

    test('C-GET: sub-operations come back on the association, with counts', async () => {
      const received: string[] = [];
      const out = scratch('get-out');
      const assoc = await connect({
        host: '127.0.0.1',
        port,
        calledAet: 'DICOMNET',
        tempDir: out,
        onStore: (i) => {
          received.push(i.sopInstanceUid);
          return Status.Success;
        },
      });
      const progress: RetrieveProgress[] = [];
      // 5 delivered, the missing file failed: "sub-operations complete, one or more failures" (B000)
      const final = await assoc.get(
        { QueryRetrieveLevel: 'STUDY', PatientID: 'PAT001' },
        { onProgress: (p) => progress.push(p) },
      );
      assert.equal(final.status, Status.SubOperationsCompleteWithFailures);
      assert.equal(received.length, 5);
      assert.deepEqual(progress[0], {
        status: Status.Pending,
        remaining: 5,
        completed: 1,
        failed: 0,
        warning: 0,
      });
      assert.equal(progress.filter((p) => p.status === Status.Pending).length, 5);
      assert.deepEqual(progress.at(-1), {
        status: Status.SubOperationsCompleteWithFailures,
        remaining: 0,
        completed: 5,
        failed: 1,
        warning: 0,
      });
      const empty = await assoc.get({ QueryRetrieveLevel: 'STUDY', PatientID: 'NONE' });
      assert.equal(empty.status, Status.Success);
      assert.equal(empty.completed, 0);
      await assoc.release();
      assert.deepEqual(readdirSync(out), [], 'received temp files are removed after onStore');
    });

    test('C-STORE when the temp file cannot be written: A700 naming the cause, the handler is not called', async () => {
      const notADir = join(scratch('blocked'), 'file');
      writeFileSync(notADir, 'x');
      let called = 0;
      const blocked = await startServer({
        tempDir: notADir,
        handlers: {
          store: () => {
            called++;
            return Status.Success;
          },
        },
      });
      try {
        const assoc = await connect({ host: '127.0.0.1', port: blocked.port, calledAet: 'DICOMNET' });
        const result = await assoc.store(files[0] as string, { noThrow: true });
        assert.equal(result.status, Status.OutOfResources);
        await assert.rejects(assoc.store(files[1] as string), /C-STORE failed: status 0xa700/i);
        await assoc.echo();
        await assoc.release();
        assert.equal(called, 0);
      } finally {
        await blocked.server.close();
      }
    });

    test('window 8: eight operations run at the same time on one association', async () => {
      maxInFlight = 0;
      const assoc = await connect({
        host: '127.0.0.1',
        port,
        calledAet: 'DICOMNET',
        contexts: ECHO_CONTEXTS,
        asyncOps: { invoked: 8, performed: 1 },
      });
      assert.equal(assoc.negotiated.maxOperationsInvoked, 8);
      const started = performance.now();
      await Promise.all(Array.from({ length: 32 }, () => assoc.echo()));
      const ms = performance.now() - started;
      assert.equal(maxInFlight, 8, 'exactly the window, never more');
      assert.ok(ms < 32 * 100 * 0.5, `32 × 100 ms echoes overlapped (${ms.toFixed(0)} ms)`);
      await assoc.release();
    });

    test('window 8 with C-STORE: instances overlap and no temp file is left', async () => {
      maxInFlight = 0;
      const assoc = await connect({
        host: '127.0.0.1',
        port,
        calledAet: 'DICOMNET',
        asyncOps: { invoked: 8, performed: 1 },
      });
      const many = [...files, ...files, ...files];
      await Promise.all(many.map((f) => assoc.store(f)));
      assert.ok(maxInFlight > 1, `stores overlapped (max ${maxInFlight})`);
      assert.ok(maxInFlight <= 8);
      await assoc.release();
      await eventually(() => filesIn(tempDir).length === 0, 'temp files removed');
    });
  },
);
