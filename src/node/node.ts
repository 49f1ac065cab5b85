import { stat } from 'node:fs/promises';
import { type Dataset, datasetFromKeywords, readPart10 } from '../data/index.js';
import { lookupTag } from '../data/dictionary.js';
import { Status } from '../dimse/index.js';
import { type Logger, silentLogger } from '../log.js';
import type { ReceivedInstance } from '../services/store-sink.js';
import {
  type AssociationInfo,
  DicomServer,
  type MoveTarget,
  type RequestContext,
  type ServerHandlers,
} from '../services/server.js';
import { SopClass } from '../services/sop-classes.js';
import type { TlsOptions } from '../tls/types.js';
import { StorageError } from './errors.js';
import { type Index, type InstanceRecord, SqliteIndex } from './index-db.js';
import type { QueryKey } from './matching.js';
import type { QueryLevel, QueryModel } from './query-attributes.js';
import { QueryError } from './errors.js';
import { type DuplicatePolicy, FileStorage } from './storage.js';
import type { PeerConfig } from './config.js';
import { checkConsistency, type ConsistencySummary } from './consistency.js';

/** Everything the secure node needs to run. */
export interface NodeOptions {
  aet: string;
  /** Plain DICOM port; false disables it. */
  port: number | false;
  /** TLS port; false disables it. */
  tlsPort: number | false;
  host?: string;
  storageDir: string;
  duplicates?: DuplicatePolicy;
  acceptAnyCalledAet?: boolean;
  /** Server TLS credentials (required when tlsPort is set). */
  tls?: TlsOptions;
  /** TLS credentials the node uses as a client (C-MOVE to TLS peers). */
  clientTls?: TlsOptions;
  peers?: Record<string, PeerConfig>;
  maxAssociations?: number;
  maxPduLength?: number;
  idleTimeoutMs?: number;
  logger?: Logger;
}

/** A running node. */
export interface RunningNode {
  server: DicomServer;
  index: Index;
  storage: FileStorage;
  ports: { plain?: number; tls?: number };
  consistency: ConsistencySummary;
  /** Stop accepting, let associations finish within `graceMs`, then abort them and close the index. */
  close(graceMs?: number): Promise<void>;
}

const INSTANCE_KEYS = {
  patientId: 'PatientID',
  issuerOfPatientId: 'IssuerOfPatientID',
  patientName: 'PatientName',
  patientBirthDate: 'PatientBirthDate',
  patientSex: 'PatientSex',
  studyDate: 'StudyDate',
  studyTime: 'StudyTime',
  accessionNumber: 'AccessionNumber',
  studyId: 'StudyID',
  referringPhysicianName: 'ReferringPhysicianName',
  studyDescription: 'StudyDescription',
  modality: 'Modality',
  seriesNumber: 'SeriesNumber',
  seriesDescription: 'SeriesDescription',
  instanceNumber: 'InstanceNumber',
} as const;

/** The index record of a stored instance, from its data set. */
export function instanceRecordOf(
  ds: Dataset,
  file: { path: string; size: number; transferSyntaxUid: string; callingAet?: string },
): InstanceRecord {
  const required = (keyword: string): string => {
    const v = ds.getString(keyword);
    if (!v) throw new StorageError('ERR_STORAGE_BAD_INSTANCE', `instance has no ${keyword}`);
    return v;
  };
  const record: InstanceRecord = {
    studyInstanceUid: required('StudyInstanceUID'),
    seriesInstanceUid: required('SeriesInstanceUID'),
    sopInstanceUid: required('SOPInstanceUID'),
    sopClassUid: required('SOPClassUID'),
    path: file.path,
    size: file.size,
    transferSyntaxUid: file.transferSyntaxUid,
    callingAet: file.callingAet,
    specificCharacterSet: ds.getStrings('SpecificCharacterSet')?.join('\\'),
  };
  for (const [field, keyword] of Object.entries(INSTANCE_KEYS)) {
    const value = ds.getStrings(keyword)?.join('\\');
    if (value !== undefined && value !== '') (record as unknown as Record<string, string>)[field] = value;
  }
  return record;
}

/** C-FIND query keys of an identifier (everything but the level and the character set). */
export function queryKeysOf(query: Dataset): QueryKey[] {
  const keys: QueryKey[] = [];
  for (const element of query) {
    const entry = lookupTag(element.tag);
    if (!entry || entry.keyword === 'QueryRetrieveLevel' || entry.keyword === 'SpecificCharacterSet')
      continue;
    const value = element.vr === 'SQ' ? '' : (query.getStrings(element.tag)?.join('\\') ?? '');
    keys.push({ keyword: entry.keyword, vr: element.vr, value });
  }
  return keys;
}

function modelOf(sopClassUid: string): QueryModel | 'worklist' {
  if (sopClassUid === SopClass.ModalityWorklistFind) return 'worklist';
  return sopClassUid.startsWith('1.2.840.10008.5.1.4.1.2.1.') ? 'patient' : 'study';
}

function levelOf(query: Dataset): QueryLevel {
  const level = (query.getString('QueryRetrieveLevel') ?? '').trim().toUpperCase();
  if (level === 'PATIENT' || level === 'STUDY' || level === 'SERIES' || level === 'IMAGE') return level;
  throw new QueryError(
    'ERR_QUERY_INVALID',
    `QueryRetrieveLevel '${level}' is not PATIENT, STUDY, SERIES or IMAGE`,
  );
}

/** Start `dicomnet serve`: storage, index, consistency check, listeners. */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const log = options.logger ?? silentLogger();
  const storage = new FileStorage(options.storageDir);
  const index = new SqliteIndex(options.storageDir);
  const consistency = await checkConsistency({
    storage,
    index,
    reindex: async (path) => {
      const { dataset, transferSyntaxUid } = await readPart10(path, { bulkDataThreshold: 4096 });
      return instanceRecordOf(dataset, { path, size: (await stat(path)).size, transferSyntaxUid });
    },
  });
  if (
    consistency.tempFilesRemoved +
      consistency.rowsRemoved +
      consistency.reindexed +
      consistency.orphanFiles.length >
    0
  ) {
    log.warn({ consistency }, 'storage consistency check repaired or found problems');
  }
  const policy = options.duplicates ?? 'keep';
  const peers = options.peers ?? {};

  const store = async (instance: ReceivedInstance & { association: AssociationInfo }): Promise<number> => {
    const ds = await instance.readDataset();
    const location = {
      studyInstanceUid: ds.getString('StudyInstanceUID') ?? '',
      seriesInstanceUid: ds.getString('SeriesInstanceUID') ?? '',
      sopInstanceUid: instance.sopInstanceUid,
    };
    let result: Awaited<ReturnType<FileStorage['commit']>>;
    try {
      result = await storage.commit(instance.file, location, policy);
    } catch (err) {
      if (err instanceof StorageError && err.code === 'ERR_STORAGE_FULL') {
        log.error({ err }, 'storage full: C-STORE refused (0xA700)');
        return Status.OutOfResources;
      }
      throw err;
    }
    if (result.outcome === 'rejected') return DUPLICATE_SOP_INSTANCE;
    if (result.outcome === 'kept-existing') return Status.Success;
    const size = (await stat(result.path)).size;
    try {
      index.upsertInstance(
        instanceRecordOf(ds, {
          path: result.path,
          size,
          transferSyntaxUid: instance.transferSyntaxUid,
          callingAet: instance.association.callingAet,
        }),
      );
    } catch (err) {
      // no file without an index row: undo the commit
      await storage.remove(result.path).catch(() => undefined);
      throw err;
    }
    return Status.Success;
  };

  const retrieveFiles = (query: Dataset, ctx: RequestContext): string[] => {
    const model = modelOf(ctx.sopClassUid);
    if (model === 'worklist') throw new QueryError('ERR_QUERY_INVALID', 'worklist has no retrieve');
    return index.filesFor(model, levelOf(query), queryKeysOf(query)).map((f) => f.path);
  };

  const handlers: ServerHandlers = {
    store,
    find: function* (query, ctx) {
      const model = modelOf(ctx.sopClassUid);
      if (model === 'worklist') {
        throw new QueryError('ERR_QUERY_INVALID', 'worklist queries are not configured');
      }
      const level = levelOf(query);
      for (const match of index.find(model, level, queryKeysOf(query))) {
        yield datasetFromKeywords({ ...match, QueryRetrieveLevel: level });
      }
    },
    move: async (query, ctx): Promise<MoveTarget | number> => {
      const peer = peers[ctx.destination];
      if (!peer) return Status.MoveDestinationUnknown;
      return {
        host: peer.host,
        port: peer.port,
        calledAet: ctx.destination,
        tls: peer.tls ? options.clientTls : undefined,
        files: retrieveFiles(query, ctx),
      };
    },
    get: async (query, ctx) => retrieveFiles(query, ctx),
  };

  const server = new DicomServer({
    aet: options.aet,
    acceptAnyCalledAet: options.acceptAnyCalledAet,
    tls: options.tls,
    handlers,
    maxAssociations: options.maxAssociations,
    maxPduLength: options.maxPduLength,
    idleTimeoutMs: options.idleTimeoutMs,
    tempDir: storage.tempDir(),
    logger: log,
  });
  server.on('association', (info: AssociationInfo) => {
    log.info(
      {
        association: info.id,
        peer: `${info.remoteAddress}:${info.remotePort}`,
        callingAet: info.callingAet,
        calledAet: info.calledAet,
        tls: info.secureLink
          ? {
              protocol: info.secureLink.protocol,
              cipherSuite: info.secureLink.cipherSuite,
              peer: info.secureLink.peerCertificate?.subject,
            }
          : undefined,
      },
      'association accepted',
    );
  });
  const ports: RunningNode['ports'] = {};
  if (options.port !== false) {
    ports.plain = (await server.listen({ port: options.port, host: options.host, secure: false })).port;
  }
  if (options.tlsPort !== false) {
    ports.tls = (await server.listen({ port: options.tlsPort, host: options.host, secure: true })).port;
  }
  return {
    server,
    index,
    storage,
    ports,
    consistency,
    async close(graceMs = 10_000) {
      await server.close(graceMs);
      index.close();
    },
  };
}

/** Failure: Duplicate SOP Instance (PS3.7 C.4.x, used for C-STORE duplicates by several archives). */
const DUPLICATE_SOP_INSTANCE = 0x0111;
