/**
 * The small slice of the DICOM JSON model (PS3.18 F.2) the node's worklist and MPPS tables
 * store. Deliberately structural so data-layer objects fit without conversion.
 */
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

/** A data set in the DICOM JSON model: upper-case 8-hex-digit tag → attribute. */
export type DicomJsonObject = Record<string, DicomJsonAttribute>;

/** Attributes used by the worklist and MPPS code, keyword → [tag, VR] (PS3.4 K.6-1, F.7.2-1). */
export const WORKLIST_DICTIONARY: ReadonlyMap<string, readonly [string, string]> = new Map([
  ['SpecificCharacterSet', ['00080005', 'CS']],
  ['StudyDate', ['00080020', 'DA']],
  ['StudyTime', ['00080030', 'TM']],
  ['AccessionNumber', ['00080050', 'SH']],
  ['Modality', ['00080060', 'CS']],
  ['ReferringPhysicianName', ['00080090', 'PN']],
  ['CodeValue', ['00080100', 'SH']],
  ['CodingSchemeDesignator', ['00080102', 'SH']],
  ['CodeMeaning', ['00080104', 'LO']],
  ['ReferencedStudySequence', ['00081110', 'SQ']],
  ['ReferencedPatientSequence', ['00081120', 'SQ']],
  ['ReferencedSOPClassUID', ['00081150', 'UI']],
  ['ReferencedSOPInstanceUID', ['00081155', 'UI']],
  ['PatientName', ['00100010', 'PN']],
  ['PatientID', ['00100020', 'LO']],
  ['IssuerOfPatientID', ['00100021', 'LO']],
  ['PatientBirthDate', ['00100030', 'DA']],
  ['PatientSex', ['00100040', 'CS']],
  ['OtherPatientIDsSequence', ['00101002', 'SQ']],
  ['PatientSize', ['00101020', 'DS']],
  ['PatientWeight', ['00101030', 'DS']],
  ['MedicalAlerts', ['00102000', 'LO']],
  ['Allergies', ['00102110', 'LO']],
  ['PregnancyStatus', ['001021C0', 'US']],
  ['StudyInstanceUID', ['0020000D', 'UI']],
  ['RequestingPhysician', ['00321032', 'PN']],
  ['RequestedProcedureDescription', ['00321060', 'LO']],
  ['RequestedProcedureCodeSequence', ['00321064', 'SQ']],
  ['AdmissionID', ['00380010', 'LO']],
  ['SpecialNeeds', ['00380050', 'LO']],
  ['CurrentPatientLocation', ['00380300', 'LO']],
  ['PatientState', ['00380500', 'LO']],
  ['ScheduledStationAETitle', ['00400001', 'AE']],
  ['ScheduledProcedureStepStartDate', ['00400002', 'DA']],
  ['ScheduledProcedureStepStartTime', ['00400003', 'TM']],
  ['ScheduledProcedureStepEndDate', ['00400004', 'DA']],
  ['ScheduledProcedureStepEndTime', ['00400005', 'TM']],
  ['ScheduledPerformingPhysicianName', ['00400006', 'PN']],
  ['ScheduledProcedureStepDescription', ['00400007', 'LO']],
  ['ScheduledProtocolCodeSequence', ['00400008', 'SQ']],
  ['ScheduledProcedureStepID', ['00400009', 'SH']],
  ['ScheduledStationName', ['00400010', 'SH']],
  ['ScheduledProcedureStepLocation', ['00400011', 'SH']],
  ['PreMedication', ['00400012', 'LO']],
  ['ScheduledProcedureStepStatus', ['00400020', 'CS']],
  ['ScheduledProcedureStepSequence', ['00400100', 'SQ']],
  ['PerformedProcedureStepStatus', ['00400252', 'CS']],
  ['RequestedProcedureID', ['00401001', 'SH']],
  ['RequestedProcedurePriority', ['00401003', 'SH']],
  ['PatientTransportArrangements', ['00401004', 'LO']],
  ['ConfidentialityConstraintOnPatientDataDescription', ['00403001', 'LO']],
]);

/** Tag of a keyword, or the keyword itself when it is already an 8-hex-digit tag. */
export function tagOf(keyword: string): string | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(keyword)) return keyword.toUpperCase();
  return WORKLIST_DICTIONARY.get(keyword)?.[0];
}

/** The values of an attribute as DICOM strings (PN groups joined with `=`; numbers as text). */
export function stringValues(attribute: DicomJsonAttribute | undefined): string[] {
  if (attribute?.Value === undefined) return [];
  const out: string[] = [];
  for (const v of attribute.Value) {
    if (v === null || v === undefined) out.push('');
    else if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
    else if (typeof v === 'object' && attribute.vr === 'PN') {
      const pn = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
      out.push([pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, ''));
    }
  }
  return out;
}

/** True when `value` has the shape of a DICOM JSON object (tags → objects with a string `vr`). */
export function isDicomJsonObject(value: unknown): value is DicomJsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const [tag, attribute] of Object.entries(value)) {
    if (!/^[0-9A-Fa-f]{8}$/.test(tag)) return false;
    if (
      attribute === null ||
      typeof attribute !== 'object' ||
      typeof (attribute as { vr?: unknown }).vr !== 'string'
    )
      return false;
  }
  return true;
}
