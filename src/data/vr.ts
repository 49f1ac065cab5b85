/** The value representations of PS3.5 Table 6.2-1. */
export const VRS = [
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'LT',
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'PN',
  'SH',
  'SL',
  'SQ',
  'SS',
  'ST',
  'SV',
  'TM',
  'UC',
  'UI',
  'UL',
  'UN',
  'UR',
  'US',
  'UT',
  'UV',
] as const;

/** A value representation. */
export type VR = (typeof VRS)[number];

const VR_SET: ReadonlySet<string> = new Set(VRS);

/** True when `s` names a value representation. */
export function isVR(s: string): s is VR {
  return VR_SET.has(s);
}

/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 7.1.2). */
const LONG_HEADER: ReadonlySet<string> = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'UC',
  'UN',
  'UR',
  'UT',
  'SV',
  'UV',
]);

/** True when the VR uses the 12-byte explicit header with a 32-bit length. */
export function hasLongHeader(vr: VR): boolean {
  return LONG_HEADER.has(vr);
}

/** Character-string VRs (values are text separated by backslash unless single-valued). */
const STRING_VRS: ReadonlySet<string> = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);

/** True for VRs whose value is character data. */
export function isStringVR(vr: VR): boolean {
  return STRING_VRS.has(vr);
}

/** Text VRs that are never split on backslash (single value by definition). */
export function isSingleValuedTextVR(vr: VR): boolean {
  return vr === 'LT' || vr === 'ST' || vr === 'UT' || vr === 'UR';
}

/** Text VRs whose bytes follow (0008,0005) Specific Character Set; the rest are ASCII. */
export function usesCharacterSet(vr: VR): boolean {
  return (
    vr === 'SH' || vr === 'LO' || vr === 'ST' || vr === 'LT' || vr === 'UC' || vr === 'UT' || vr === 'PN'
  );
}

/** Size in bytes of one binary value, for byte swapping and numeric access; 0 for non-binary VRs. */
export function binaryWordSize(vr: VR): number {
  switch (vr) {
    case 'US':
    case 'SS':
    case 'OW':
      return 2;
    case 'UL':
    case 'SL':
    case 'FL':
    case 'OF':
    case 'OL':
    case 'AT':
      return 4;
    case 'FD':
    case 'OD':
    case 'SV':
    case 'UV':
    case 'OV':
      return 8;
    default:
      return 0;
  }
}

/** Unit of byte swapping between little and big endian: AT swaps as two 16-bit words. */
export function swapUnit(vr: VR): number {
  return vr === 'AT' ? 2 : binaryWordSize(vr);
}

/** Bulk binary VRs (represented as InlineBinary / BulkDataURI in DICOM JSON). */
export function isBinaryVR(vr: VR): boolean {
  return (
    vr === 'OB' || vr === 'OD' || vr === 'OF' || vr === 'OL' || vr === 'OV' || vr === 'OW' || vr === 'UN'
  );
}

/** Padding byte for values of odd length: space for text, NUL for UI and binary. */
export function paddingByte(vr: VR): number {
  return isStringVR(vr) && vr !== 'UI' ? 0x20 : 0x00;
}
