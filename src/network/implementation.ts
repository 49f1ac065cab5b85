// One implementation identity for files and associations: the data layer owns it.
export { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../data/part10.js';

/** The DICOM application context name (PS3.7 A.2.1); the only one defined. */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
