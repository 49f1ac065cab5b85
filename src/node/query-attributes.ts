/** Query/Retrieve levels, top-down. */
export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

/** Query/Retrieve information models: Patient Root and Study Root. */
export type QueryModel = 'patient' | 'study';

export const LEVELS: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];

/** SQL alias of the table holding each level's entities. */
export const LEVEL_ALIAS: Record<QueryLevel, string> = {
  PATIENT: 'p',
  STUDY: 'st',
  SERIES: 'se',
  IMAGE: 'i',
};

/** An attribute the index can match and return (PS3.4 C.6.1.1 / C.6.2.1 keys). */
export interface IndexedAttribute {
  keyword: string;
  vr: string;
  /** Level in the Patient Root model; Study Root folds PATIENT attributes into STUDY. */
  level: QueryLevel;
  /** SQL expression of the value returned in responses. */
  select: string;
  /** SQL expression compared when matching (normalized form), if not `select`. */
  match?: string;
  /** ModalitiesInStudy: matched through the study's series, not a column. */
  viaSeriesModality?: boolean;
}

const ATTRIBUTES: readonly IndexedAttribute[] = [
  {
    keyword: 'PatientName',
    vr: 'PN',
    level: 'PATIENT',
    select: 'p.patient_name',
    match: 'p.patient_name_norm',
  },
  { keyword: 'PatientID', vr: 'LO', level: 'PATIENT', select: 'p.patient_id' },
  { keyword: 'IssuerOfPatientID', vr: 'LO', level: 'PATIENT', select: 'p.issuer' },
  { keyword: 'PatientBirthDate', vr: 'DA', level: 'PATIENT', select: 'p.birth_date' },
  { keyword: 'PatientSex', vr: 'CS', level: 'PATIENT', select: 'p.sex' },
  { keyword: 'NumberOfPatientRelatedStudies', vr: 'IS', level: 'PATIENT', select: 'p.num_studies' },
  { keyword: 'NumberOfPatientRelatedSeries', vr: 'IS', level: 'PATIENT', select: 'p.num_series' },
  { keyword: 'NumberOfPatientRelatedInstances', vr: 'IS', level: 'PATIENT', select: 'p.num_instances' },

  { keyword: 'StudyDate', vr: 'DA', level: 'STUDY', select: 'st.study_date' },
  { keyword: 'StudyTime', vr: 'TM', level: 'STUDY', select: 'st.study_time', match: 'st.study_time_norm' },
  { keyword: 'AccessionNumber', vr: 'SH', level: 'STUDY', select: 'st.accession_number' },
  { keyword: 'StudyID', vr: 'SH', level: 'STUDY', select: 'st.study_id' },
  { keyword: 'StudyInstanceUID', vr: 'UI', level: 'STUDY', select: 'st.study_uid' },
  {
    keyword: 'ReferringPhysicianName',
    vr: 'PN',
    level: 'STUDY',
    select: 'st.referring_physician',
    match: 'st.referring_physician_norm',
  },
  { keyword: 'StudyDescription', vr: 'LO', level: 'STUDY', select: 'st.description' },
  {
    keyword: 'ModalitiesInStudy',
    vr: 'CS',
    level: 'STUDY',
    select: 'st.modalities',
    viaSeriesModality: true,
  },
  { keyword: 'NumberOfStudyRelatedSeries', vr: 'IS', level: 'STUDY', select: 'st.num_series' },
  { keyword: 'NumberOfStudyRelatedInstances', vr: 'IS', level: 'STUDY', select: 'st.num_instances' },

  { keyword: 'Modality', vr: 'CS', level: 'SERIES', select: 'se.modality' },
  { keyword: 'SeriesNumber', vr: 'IS', level: 'SERIES', select: 'se.series_number' },
  { keyword: 'SeriesInstanceUID', vr: 'UI', level: 'SERIES', select: 'se.series_uid' },
  { keyword: 'SeriesDescription', vr: 'LO', level: 'SERIES', select: 'se.description' },
  { keyword: 'NumberOfSeriesRelatedInstances', vr: 'IS', level: 'SERIES', select: 'se.num_instances' },

  { keyword: 'InstanceNumber', vr: 'IS', level: 'IMAGE', select: 'i.instance_number' },
  { keyword: 'SOPInstanceUID', vr: 'UI', level: 'IMAGE', select: 'i.sop_uid' },
  { keyword: 'SOPClassUID', vr: 'UI', level: 'IMAGE', select: 'i.sop_class_uid' },
  { keyword: 'AvailableTransferSyntaxUID', vr: 'UI', level: 'IMAGE', select: 'i.transfer_syntax' },
];

/** Every attribute the index knows, by keyword. */
export const INDEXED_ATTRIBUTES: ReadonlyMap<string, IndexedAttribute> = new Map(
  ATTRIBUTES.map((a) => [a.keyword, a]),
);

/** The unique key of each level (PS3.4 C.6.1.1 / C.6.2.1). */
export const UNIQUE_KEY: Record<QueryLevel, string> = {
  PATIENT: 'PatientID',
  STUDY: 'StudyInstanceUID',
  SERIES: 'SeriesInstanceUID',
  IMAGE: 'SOPInstanceUID',
};

/** The levels a model has, top-down. */
export function levelsOf(model: QueryModel): readonly QueryLevel[] {
  return model === 'patient' ? LEVELS : LEVELS.slice(1);
}

/** Level of an attribute within a model: Study Root has no PATIENT level, its keys live at STUDY. */
export function levelIn(model: QueryModel, attribute: IndexedAttribute): QueryLevel {
  return model === 'study' && attribute.level === 'PATIENT' ? 'STUDY' : attribute.level;
}

/** Depth of a level: PATIENT 0 … IMAGE 3. */
export function depth(level: QueryLevel): number {
  return LEVELS.indexOf(level);
}
