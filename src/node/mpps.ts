import type { Database, Statement } from 'better-sqlite3';
import { type DicomJsonObject, isDicomJsonObject, stringValues } from './dicom-json.js';
import { isSafeUid } from './uid.js';

/** DIMSE status codes the MPPS rules produce (PS3.4 F.7.2, PS3.7 C); the SCP sends them as-is. */
export const MppsStatus = {
  Success: 0x0000,
  InvalidAttributeValue: 0x0106,
  ProcessingFailure: 0x0110,
  DuplicateSopInstance: 0x0111,
  NoSuchObjectInstance: 0x0112,
  InvalidObjectInstance: 0x0117,
  MissingAttribute: 0x0120,
} as const;

/** Error ID (0000,0902 comment / Error ID) for an N-SET on a finished step (PS3.4 F.7.2.2.2). */
export const MPPS_ERROR_NO_LONGER_UPDATABLE = 0xa710;

/** Values of Performed Procedure Step Status (0040,0252). */
export type MppsState = 'IN PROGRESS' | 'COMPLETED' | 'DISCONTINUED';

const STATES: readonly string[] = ['IN PROGRESS', 'COMPLETED', 'DISCONTINUED'];
const STATUS_TAG = '00400252';

/** Outcome of an N-CREATE or N-SET: the stored attribute set, or the status to answer with. */
export type MppsResult =
  | { ok: true; status: 0; state: MppsState; attributes: DicomJsonObject }
  | { ok: false; status: number; errorId?: number; reason: string };

/** A stored performed procedure step. */
export interface MppsRecord {
  sopInstanceUid: string;
  state: MppsState;
  attributes: DicomJsonObject;
  callingAet?: string;
  createdAt: string;
  updatedAt: string;
}

interface MppsRow {
  sop_instance_uid: string;
  status: string;
  json: string;
  calling_aet: string | null;
  created_at: string;
  updated_at: string;
}

function fail(status: number, reason: string, errorId?: number): MppsResult {
  return errorId === undefined ? { ok: false, status, reason } : { ok: false, status, errorId, reason };
}

function stateOf(attributes: DicomJsonObject): string | undefined {
  const attribute = attributes[STATUS_TAG] ?? attributes[STATUS_TAG.toLowerCase()];
  return attribute === undefined ? undefined : (stringValues(attribute)[0]?.trim() ?? '');
}

/** The MPPS table as the SCP uses it (storage-agnostic; {@link MppsStore} is the SQLite one). */
export interface MppsSteps {
  create(sopInstanceUid: string, attributes: DicomJsonObject, callingAet?: string): MppsResult;
  set(sopInstanceUid: string, modifications: DicomJsonObject): MppsResult;
  get(sopInstanceUid: string): MppsRecord | undefined;
}

/**
 * Modality Performed Procedure Step SCP state (PS3.4 F.7): N-CREATE opens a step
 * IN PROGRESS; N-SET updates it while it is IN PROGRESS and may end it as COMPLETED or
 * DISCONTINUED; after that the step is frozen (0110, Error ID A710).
 */
export class MppsStore implements MppsSteps {
  readonly #get: Statement<[string], MppsRow>;
  readonly #insert: Statement<[string, string, string, string | null, string, string]>;
  readonly #update: Statement<[string, string, string, string]>;

  constructor(db: Database) {
    this.#get = db.prepare('SELECT * FROM mpps WHERE sop_instance_uid = ?');
    this.#insert = db.prepare(
      'INSERT INTO mpps (sop_instance_uid, status, json, calling_aet, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#update = db.prepare(
      'UPDATE mpps SET status = ?, json = ?, updated_at = ? WHERE sop_instance_uid = ?',
    );
  }

  /** N-CREATE: store a new step; its status must be IN PROGRESS. */
  create(sopInstanceUid: string, attributes: DicomJsonObject, callingAet?: string): MppsResult {
    if (!isSafeUid(sopInstanceUid) || !/^[0-9]+(\.[0-9]+)*$/.test(sopInstanceUid))
      return fail(
        MppsStatus.InvalidObjectInstance,
        `MPPS N-CREATE: ${JSON.stringify(sopInstanceUid)} is not a UID`,
      );
    if (!isDicomJsonObject(attributes))
      return fail(MppsStatus.InvalidAttributeValue, 'MPPS N-CREATE: attributes are not a DICOM JSON object');
    const state = stateOf(attributes);
    if (state === undefined || state === '')
      return fail(
        MppsStatus.MissingAttribute,
        'MPPS N-CREATE: Performed Procedure Step Status (0040,0252) missing',
      );
    if (state !== 'IN PROGRESS')
      return fail(
        MppsStatus.InvalidAttributeValue,
        `MPPS N-CREATE: Performed Procedure Step Status must be IN PROGRESS, got ${JSON.stringify(state)}`,
      );
    if (this.#get.get(sopInstanceUid) !== undefined)
      return fail(MppsStatus.DuplicateSopInstance, `MPPS N-CREATE: ${sopInstanceUid} already exists`);
    const now = new Date().toISOString();
    this.#insert.run(sopInstanceUid, state, JSON.stringify(attributes), callingAet ?? null, now, now);
    return { ok: true, status: 0, state, attributes };
  }

  /**
   * N-SET: replace the given attributes (top-level, sequences as a whole) of an IN PROGRESS
   * step. A status other than IN PROGRESS / COMPLETED / DISCONTINUED is an invalid value.
   */
  set(sopInstanceUid: string, modifications: DicomJsonObject): MppsResult {
    const row = this.#get.get(sopInstanceUid);
    if (row === undefined)
      return fail(
        MppsStatus.NoSuchObjectInstance,
        `MPPS N-SET: no performed procedure step ${sopInstanceUid}`,
      );
    if (!isDicomJsonObject(modifications))
      return fail(MppsStatus.InvalidAttributeValue, 'MPPS N-SET: modifications are not a DICOM JSON object');
    if (row.status !== 'IN PROGRESS')
      return fail(
        MppsStatus.ProcessingFailure,
        `MPPS N-SET: step ${sopInstanceUid} is ${row.status} and may no longer be updated`,
        MPPS_ERROR_NO_LONGER_UPDATABLE,
      );
    const requested = stateOf(modifications);
    if (requested !== undefined && !STATES.includes(requested))
      return fail(
        MppsStatus.InvalidAttributeValue,
        `MPPS N-SET: Performed Procedure Step Status ${JSON.stringify(requested)} is not IN PROGRESS, COMPLETED or DISCONTINUED`,
      );
    const merged: DicomJsonObject = { ...(JSON.parse(row.json) as DicomJsonObject) };
    for (const [tag, attribute] of Object.entries(modifications)) merged[tag.toUpperCase()] = attribute;
    const state = (requested ?? row.status) as MppsState;
    this.#update.run(state, JSON.stringify(merged), new Date().toISOString(), sopInstanceUid);
    return { ok: true, status: 0, state, attributes: merged };
  }

  /** The stored step, if any. */
  get(sopInstanceUid: string): MppsRecord | undefined {
    const row = this.#get.get(sopInstanceUid);
    if (row === undefined) return undefined;
    const record: MppsRecord = {
      sopInstanceUid: row.sop_instance_uid,
      state: row.status as MppsState,
      attributes: JSON.parse(row.json) as DicomJsonObject,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
    if (row.calling_aet !== null) record.callingAet = row.calling_aet;
    return record;
  }
}
