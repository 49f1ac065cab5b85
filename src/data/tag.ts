/** A DICOM tag as an unsigned 32-bit integer: `(group << 16 | element) >>> 0`. */
export type Tag = number;

/** Build a tag from its group and element numbers. */
export function makeTag(group: number, element: number): Tag {
  return ((group << 16) | (element & 0xffff)) >>> 0;
}

/** Group number of a tag. */
export function tagGroup(tag: Tag): number {
  return tag >>> 16;
}

/** Element number of a tag. */
export function tagElement(tag: Tag): number {
  return tag & 0xffff;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** `(0010,0010)` form of a tag, upper-case hex. */
export function formatTag(tag: Tag): string {
  return `(${hex4(tag >>> 16)},${hex4(tag & 0xffff)})`;
}

/** `00100010` form of a tag, as DICOM JSON keys use it. */
export function tagHex(tag: Tag): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** True for tags in odd groups (private data elements), excluding groups 0001, 0003, 0005, 0007, FFFF. */
export function isPrivateTag(tag: Tag): boolean {
  const group = tag >>> 16;
  return (group & 1) === 1 && group > 0x0008 && group !== 0xffff;
}

/** True for private creator elements (gggg,0010-00FF) in a private group. */
export function isPrivateCreator(tag: Tag): boolean {
  const element = tag & 0xffff;
  return isPrivateTag(tag) && element >= 0x0010 && element <= 0x00ff;
}

/** Parse `(0010,0010)`, `0010,0010` or `00100010` into a tag; undefined when it is none of these. */
export function parseTag(text: string): Tag | undefined {
  const m = /^\(?([0-9a-fA-F]{4}),?([0-9a-fA-F]{4})\)?$/.exec(text.trim());
  if (!m) return undefined;
  return makeTag(Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16));
}

/** Well-known tags the data layer itself needs. */
export const Tags = {
  FileMetaInformationGroupLength: 0x00020000,
  FileMetaInformationVersion: 0x00020001,
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  ImplementationClassUID: 0x00020012,
  ImplementationVersionName: 0x00020013,
  SourceApplicationEntityTitle: 0x00020016,
  SpecificCharacterSet: 0x00080005,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  PixelData: 0x7fe00010,
  Item: 0xfffee000,
  ItemDelimitationItem: 0xfffee00d,
  SequenceDelimitationItem: 0xfffee0dd,
} as const;
