/**
 * dicomnet's implementation identity, sent in every A-ASSOCIATE-RQ/AC
 * (PS3.7 D.3.3.2). The class UID sits under the 2.25 arc (PS3.5 B.2: a UID
 * derived from a UUID), generated once from UUID 74241006-d598-4b93-9ff8-9af496b4361a;
 * no organisational root is needed or claimed. Never change it: peers may
 * key workarounds on it.
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.154377695257984549280994176530830865946';

/** Implementation version name (at most 16 characters, PS3.7 D.3.3.2.3). */
export const IMPLEMENTATION_VERSION_NAME = 'DICOMNET_010';

/** The DICOM application context name (PS3.7 A.2.1); the only one defined. */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
