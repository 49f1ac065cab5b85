// Types for the untyped dicom-character-set package (only what the data layer calls).
declare module 'dicom-character-set' {
  export function convertBytes(
    specificCharacterSet: string | undefined,
    bytes: Uint8Array,
    options?: { vr?: string },
  ): string;
}
