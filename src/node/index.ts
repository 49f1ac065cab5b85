export {
  type CommitmentFailure,
  CommitmentFailureReason,
  type CommitmentReference,
  type CommitmentResult,
  type CommittedInstanceLookup,
  checkCommitment,
} from './commitment.js';
export {
  defaultNodeConfig,
  loadNodeConfig,
  mergeConfig,
  type NodeAcceptConfig,
  type NodeConfig,
  type NodeConfigOverrides,
  type NodeLimits,
  type NodeLogFormat,
  type NodeLogLevel,
  type NodeTlsConfig,
  type PeerClientCredentials,
  type PeerConfig,
  parseNodeConfig,
} from './config.js';
export { peerTlsOptions } from './peer-tls.js';
export { type ConsistencyOptions, type ConsistencySummary, checkConsistency } from './consistency.js';
export { type DicomJsonAttribute, type DicomJsonObject } from './dicom-json.js';
export { ConfigError, IndexError, QueryError, StorageError, type StorageErrorCode } from './errors.js';
export {
  INDEX_FILE,
  type Index,
  type IndexCounts,
  type InstanceRecord,
  type QueryMatch,
  type RetrieveItem,
  SqliteIndex,
  type SqliteIndexOptions,
  type StoredInstance,
} from './index-db.js';
export { PG_MIGRATIONS, PgIndex, type PgIndexOptions } from './index-pg.js';
export {
  compileMatcher,
  dicomWildcardToGlob,
  dicomWildcardToRegExp,
  MAX_WILDCARD_ALTERNATIVES,
  MAX_WILDCARD_CHARS,
  type Matcher,
  matchesValues,
  normalizeDate,
  normalizeDateTime,
  normalizePersonName,
  normalizeTime,
  parseMatcher,
  type QueryKey,
  type ValuesTest,
} from './matching.js';
export { matchWildcard } from './wildcard.js';
export {
  MPPS_ERROR_NO_LONGER_UPDATABLE,
  type MppsRecord,
  type MppsResult,
  type MppsState,
  MppsStatus,
  type MppsSteps,
  MppsStore,
} from './mpps.js';
export {
  INDEXED_ATTRIBUTES,
  type IndexedAttribute,
  type QueryLevel,
  type QueryModel,
  UNIQUE_KEY,
} from './query-attributes.js';
export type { FindOptions } from './query-builder.js';
export {
  type CommitOptions,
  type CommitOutcome,
  type CommitResult,
  type DuplicatePolicy,
  FileStorage,
  type FileStorageOptions,
  INCOMING_DIR,
  type InstanceLocation,
  type InstanceStorage,
  type StorageFs,
} from './storage.js';
export { type Worklist, WorklistStore } from './worklist.js';
