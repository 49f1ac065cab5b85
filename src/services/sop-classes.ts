/**
 * SOP class UIDs of the services dicomnet offers (PS3.4, PS3.6 Table A-1).
 * Storage SOP classes are recognised by their registry branch, so new ones
 * need no table update; the list below is what a C-GET SCU proposes.
 */

export const SopClass = {
  Verification: '1.2.840.10008.1.1',
  PatientRootFind: '1.2.840.10008.5.1.4.1.2.1.1',
  PatientRootMove: '1.2.840.10008.5.1.4.1.2.1.2',
  PatientRootGet: '1.2.840.10008.5.1.4.1.2.1.3',
  StudyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  StudyRootMove: '1.2.840.10008.5.1.4.1.2.2.2',
  StudyRootGet: '1.2.840.10008.5.1.4.1.2.2.3',
  PatientStudyOnlyFind: '1.2.840.10008.5.1.4.1.2.3.1',
  PatientStudyOnlyMove: '1.2.840.10008.5.1.4.1.2.3.2',
  PatientStudyOnlyGet: '1.2.840.10008.5.1.4.1.2.3.3',
  ModalityWorklistFind: '1.2.840.10008.5.1.4.31',
  StorageCommitmentPushModel: '1.2.840.10008.1.20.1',
  /** Well-known SOP instance of Storage Commitment Push Model. */
  StorageCommitmentPushModelInstance: '1.2.840.10008.1.20.1.1',
  ModalityPerformedProcedureStep: '1.2.840.10008.3.1.2.3.3',
} as const;

/** Query/Retrieve information models, as the CLI's `-m` names them. */
export type QueryModel = 'patient' | 'study' | 'worklist';

/** C-FIND SOP class of a query model. */
export function findSopClass(model: QueryModel): string {
  switch (model) {
    case 'patient':
      return SopClass.PatientRootFind;
    case 'study':
      return SopClass.StudyRootFind;
    case 'worklist':
      return SopClass.ModalityWorklistFind;
  }
}

/** C-MOVE SOP class of a query model. */
export function moveSopClass(model: Exclude<QueryModel, 'worklist'>): string {
  return model === 'patient' ? SopClass.PatientRootMove : SopClass.StudyRootMove;
}

/** C-GET SOP class of a query model. */
export function getSopClass(model: Exclude<QueryModel, 'worklist'>): string {
  return model === 'patient' ? SopClass.PatientRootGet : SopClass.StudyRootGet;
}

const STORAGE_BRANCH = '1.2.840.10008.5.1.4.1.1.';

/** True for a (standard) Storage SOP class UID (PS3.4 Annex B and its kin share one registry branch). */
export function isStorageSopClass(uid: string): boolean {
  return uid.startsWith(STORAGE_BRANCH);
}

/**
 * Storage SOP classes proposed (with SCP role) by a C-GET SCU, most common first.
 * Kept under 100 so that verification, Q/R and these fit in the 128 contexts an
 * association can carry.
 */
export const COMMON_STORAGE_SOP_CLASSES: readonly string[] = [
  '1.2.840.10008.5.1.4.1.1.2', // CT Image
  '1.2.840.10008.5.1.4.1.1.4', // MR Image
  '1.2.840.10008.5.1.4.1.1.1', // Computed Radiography Image
  '1.2.840.10008.5.1.4.1.1.1.1', // Digital X-Ray Image - For Presentation
  '1.2.840.10008.5.1.4.1.1.1.1.1', // Digital X-Ray Image - For Processing
  '1.2.840.10008.5.1.4.1.1.1.2', // Digital Mammography X-Ray Image - For Presentation
  '1.2.840.10008.5.1.4.1.1.1.2.1', // Digital Mammography X-Ray Image - For Processing
  '1.2.840.10008.5.1.4.1.1.1.3', // Digital Intra-Oral X-Ray Image - For Presentation
  '1.2.840.10008.5.1.4.1.1.6.1', // Ultrasound Image
  '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame Image
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture Image
  '1.2.840.10008.5.1.4.1.1.7.1', // Multi-frame Single Bit Secondary Capture
  '1.2.840.10008.5.1.4.1.1.7.2', // Multi-frame Grayscale Byte Secondary Capture
  '1.2.840.10008.5.1.4.1.1.7.3', // Multi-frame Grayscale Word Secondary Capture
  '1.2.840.10008.5.1.4.1.1.7.4', // Multi-frame True Color Secondary Capture
  '1.2.840.10008.5.1.4.1.1.20', // Nuclear Medicine Image
  '1.2.840.10008.5.1.4.1.1.128', // Positron Emission Tomography Image
  '1.2.840.10008.5.1.4.1.1.130', // Enhanced PET Image
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT Image
  '1.2.840.10008.5.1.4.1.1.4.1', // Enhanced MR Image
  '1.2.840.10008.5.1.4.1.1.4.2', // MR Spectroscopy
  '1.2.840.10008.5.1.4.1.1.12.1', // X-Ray Angiographic Image
  '1.2.840.10008.5.1.4.1.1.12.1.1', // Enhanced XA Image
  '1.2.840.10008.5.1.4.1.1.12.2', // X-Ray Radiofluoroscopic Image
  '1.2.840.10008.5.1.4.1.1.12.2.1', // Enhanced XRF Image
  '1.2.840.10008.5.1.4.1.1.13.1.3', // Breast Tomosynthesis Image
  '1.2.840.10008.5.1.4.1.1.481.1', // RT Image
  '1.2.840.10008.5.1.4.1.1.481.2', // RT Dose
  '1.2.840.10008.5.1.4.1.1.481.3', // RT Structure Set
  '1.2.840.10008.5.1.4.1.1.481.5', // RT Plan
  '1.2.840.10008.5.1.4.1.1.481.4', // RT Beams Treatment Record
  '1.2.840.10008.5.1.4.1.1.481.8', // RT Ion Plan
  '1.2.840.10008.5.1.4.1.1.66', // Raw Data
  '1.2.840.10008.5.1.4.1.1.66.1', // Spatial Registration
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.11.1', // Grayscale Softcopy Presentation State
  '1.2.840.10008.5.1.4.1.1.11.2', // Color Softcopy Presentation State
  '1.2.840.10008.5.1.4.1.1.88.11', // Basic Text SR
  '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
  '1.2.840.10008.5.1.4.1.1.88.33', // Comprehensive SR
  '1.2.840.10008.5.1.4.1.1.88.59', // Key Object Selection Document
  '1.2.840.10008.5.1.4.1.1.88.67', // X-Ray Radiation Dose SR
  '1.2.840.10008.5.1.4.1.1.104.1', // Encapsulated PDF
  '1.2.840.10008.5.1.4.1.1.77.1.1', // VL Endoscopic Image
  '1.2.840.10008.5.1.4.1.1.77.1.2', // VL Microscopic Image
  '1.2.840.10008.5.1.4.1.1.77.1.4', // VL Photographic Image
  '1.2.840.10008.5.1.4.1.1.77.1.6', // VL Whole Slide Microscopy Image
  '1.2.840.10008.5.1.4.1.1.9.1.1', // 12-lead ECG Waveform
  '1.2.840.10008.5.1.4.1.1.9.1.2', // General ECG Waveform
];
