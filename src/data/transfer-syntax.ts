/** What a transfer syntax means for the byte layout of a data set. */
export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  explicitVR: boolean;
  littleEndian: boolean;
  /** Pixel data is encapsulated (compressed fragments); passed through, never decoded here. */
  encapsulated: boolean;
  /** The data set after the file meta information is raw-deflate compressed. */
  deflated: boolean;
  retired: boolean;
}

/** UIDs of the transfer syntaxes dicomnet knows. */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  EncapsulatedUncompressedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.98',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  JPEG2000MCLossless: '1.2.840.10008.1.2.4.92',
  JPEG2000MC: '1.2.840.10008.1.2.4.93',
  JPIPReferenced: '1.2.840.10008.1.2.4.94',
  JPIPReferencedDeflate: '1.2.840.10008.1.2.4.95',
  MPEG2MPML: '1.2.840.10008.1.2.4.100',
  MPEG2MPHL: '1.2.840.10008.1.2.4.101',
  MPEG4HP41: '1.2.840.10008.1.2.4.102',
  MPEG4HP41BD: '1.2.840.10008.1.2.4.103',
  MPEG4HP422D: '1.2.840.10008.1.2.4.104',
  MPEG4HP423D: '1.2.840.10008.1.2.4.105',
  MPEG4HP42STEREO: '1.2.840.10008.1.2.4.106',
  HEVCMP51: '1.2.840.10008.1.2.4.107',
  HEVCM10P51: '1.2.840.10008.1.2.4.108',
  HTJ2KLossless: '1.2.840.10008.1.2.4.201',
  HTJ2KLosslessRPCL: '1.2.840.10008.1.2.4.202',
  HTJ2K: '1.2.840.10008.1.2.4.203',
  JPIPHTJ2KReferenced: '1.2.840.10008.1.2.4.204',
  JPIPHTJ2KReferencedDeflate: '1.2.840.10008.1.2.4.205',
  RLELossless: '1.2.840.10008.1.2.5',
  SMPTEST211020UncompressedProgressiveActiveVideo: '1.2.840.10008.1.2.7.1',
  SMPTEST211020UncompressedInterlacedActiveVideo: '1.2.840.10008.1.2.7.2',
  SMPTEST211030PCMDigitalAudio: '1.2.840.10008.1.2.7.3',
} as const;

type Row = [uid: string, name: string, flags: string];
// flags: I implicit VR, B big endian, E encapsulated, D deflated, R retired
const ROWS: Row[] = [
  [TransferSyntax.ImplicitVRLittleEndian, 'Implicit VR Little Endian', 'I'],
  [TransferSyntax.ExplicitVRLittleEndian, 'Explicit VR Little Endian', ''],
  [
    TransferSyntax.EncapsulatedUncompressedExplicitVRLittleEndian,
    'Encapsulated Uncompressed Explicit VR Little Endian',
    'E',
  ],
  [TransferSyntax.DeflatedExplicitVRLittleEndian, 'Deflated Explicit VR Little Endian', 'D'],
  [TransferSyntax.ExplicitVRBigEndian, 'Explicit VR Big Endian', 'BR'],
  [TransferSyntax.JPEGBaseline8Bit, 'JPEG Baseline (Process 1)', 'E'],
  [TransferSyntax.JPEGExtended12Bit, 'JPEG Extended (Process 2 & 4)', 'E'],
  ['1.2.840.10008.1.2.4.52', 'JPEG Extended (Process 3 & 5)', 'ER'],
  ['1.2.840.10008.1.2.4.53', 'JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8)', 'ER'],
  ['1.2.840.10008.1.2.4.54', 'JPEG Spectral Selection, Non-Hierarchical (Process 7 & 9)', 'ER'],
  ['1.2.840.10008.1.2.4.55', 'JPEG Full Progression, Non-Hierarchical (Process 10 & 12)', 'ER'],
  ['1.2.840.10008.1.2.4.56', 'JPEG Full Progression, Non-Hierarchical (Process 11 & 13)', 'ER'],
  [TransferSyntax.JPEGLossless, 'JPEG Lossless, Non-Hierarchical (Process 14)', 'E'],
  ['1.2.840.10008.1.2.4.58', 'JPEG Lossless, Non-Hierarchical (Process 15)', 'ER'],
  ['1.2.840.10008.1.2.4.59', 'JPEG Extended, Hierarchical (Process 16 & 18)', 'ER'],
  ['1.2.840.10008.1.2.4.60', 'JPEG Extended, Hierarchical (Process 17 & 19)', 'ER'],
  ['1.2.840.10008.1.2.4.61', 'JPEG Spectral Selection, Hierarchical (Process 20 & 22)', 'ER'],
  ['1.2.840.10008.1.2.4.62', 'JPEG Spectral Selection, Hierarchical (Process 21 & 23)', 'ER'],
  ['1.2.840.10008.1.2.4.63', 'JPEG Full Progression, Hierarchical (Process 24 & 26)', 'ER'],
  ['1.2.840.10008.1.2.4.64', 'JPEG Full Progression, Hierarchical (Process 25 & 27)', 'ER'],
  ['1.2.840.10008.1.2.4.65', 'JPEG Lossless, Hierarchical (Process 28)', 'ER'],
  ['1.2.840.10008.1.2.4.66', 'JPEG Lossless, Hierarchical (Process 29)', 'ER'],
  [
    TransferSyntax.JPEGLosslessSV1,
    'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
    'E',
  ],
  [TransferSyntax.JPEGLSLossless, 'JPEG-LS Lossless Image Compression', 'E'],
  [TransferSyntax.JPEGLSNearLossless, 'JPEG-LS Lossy (Near-Lossless) Image Compression', 'E'],
  [TransferSyntax.JPEG2000Lossless, 'JPEG 2000 Image Compression (Lossless Only)', 'E'],
  [TransferSyntax.JPEG2000, 'JPEG 2000 Image Compression', 'E'],
  [
    TransferSyntax.JPEG2000MCLossless,
    'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)',
    'E',
  ],
  [TransferSyntax.JPEG2000MC, 'JPEG 2000 Part 2 Multi-component Image Compression', 'E'],
  [TransferSyntax.JPIPReferenced, 'JPIP Referenced', ''],
  [TransferSyntax.JPIPReferencedDeflate, 'JPIP Referenced Deflate', 'D'],
  [TransferSyntax.MPEG2MPML, 'MPEG2 Main Profile / Main Level', 'E'],
  ['1.2.840.10008.1.2.4.100.1', 'Fragmentable MPEG2 Main Profile / Main Level', 'E'],
  [TransferSyntax.MPEG2MPHL, 'MPEG2 Main Profile / High Level', 'E'],
  ['1.2.840.10008.1.2.4.101.1', 'Fragmentable MPEG2 Main Profile / High Level', 'E'],
  [TransferSyntax.MPEG4HP41, 'MPEG-4 AVC/H.264 High Profile / Level 4.1', 'E'],
  ['1.2.840.10008.1.2.4.102.1', 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1', 'E'],
  [TransferSyntax.MPEG4HP41BD, 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'E'],
  ['1.2.840.10008.1.2.4.103.1', 'Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'E'],
  [TransferSyntax.MPEG4HP422D, 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', 'E'],
  ['1.2.840.10008.1.2.4.104.1', 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', 'E'],
  [TransferSyntax.MPEG4HP423D, 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', 'E'],
  ['1.2.840.10008.1.2.4.105.1', 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', 'E'],
  [TransferSyntax.MPEG4HP42STEREO, 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'E'],
  ['1.2.840.10008.1.2.4.106.1', 'Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'E'],
  [TransferSyntax.HEVCMP51, 'HEVC/H.265 Main Profile / Level 5.1', 'E'],
  [TransferSyntax.HEVCM10P51, 'HEVC/H.265 Main 10 Profile / Level 5.1', 'E'],
  [TransferSyntax.HTJ2KLossless, 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', 'E'],
  [
    TransferSyntax.HTJ2KLosslessRPCL,
    'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)',
    'E',
  ],
  [TransferSyntax.HTJ2K, 'High-Throughput JPEG 2000 Image Compression', 'E'],
  [TransferSyntax.JPIPHTJ2KReferenced, 'JPIP HTJ2K Referenced', ''],
  [TransferSyntax.JPIPHTJ2KReferencedDeflate, 'JPIP HTJ2K Referenced Deflate', 'D'],
  [TransferSyntax.RLELossless, 'RLE Lossless', 'E'],
  [
    TransferSyntax.SMPTEST211020UncompressedProgressiveActiveVideo,
    'SMPTE ST 2110-20 Uncompressed Progressive Active Video',
    'E',
  ],
  [
    TransferSyntax.SMPTEST211020UncompressedInterlacedActiveVideo,
    'SMPTE ST 2110-20 Uncompressed Interlaced Active Video',
    'E',
  ],
  [TransferSyntax.SMPTEST211030PCMDigitalAudio, 'SMPTE ST 2110-30 PCM Digital Audio', 'E'],
];

const REGISTRY: ReadonlyMap<string, TransferSyntaxInfo> = new Map(
  ROWS.map(([uid, name, flags]) => [
    uid,
    {
      uid,
      name,
      explicitVR: !flags.includes('I'),
      littleEndian: !flags.includes('B'),
      encapsulated: flags.includes('E'),
      deflated: flags.includes('D'),
      retired: flags.includes('R'),
    },
  ]),
);

/** Registry entry for a transfer syntax UID (trailing NUL/space padding ignored), or undefined. */
export function transferSyntaxInfo(uid: string): TransferSyntaxInfo | undefined {
  return REGISTRY.get(uid.replace(/[\0 ]+$/, ''));
}

/** Every registered transfer syntax. */
export function allTransferSyntaxes(): TransferSyntaxInfo[] {
  return [...REGISTRY.values()];
}

/**
 * Byte-layout description for a UID. Unknown UIDs are treated as explicit VR little endian
 * encapsulated (PS3.5 A.4: every other TS is explicit LE), so their pixel data passes through.
 */
export function transferSyntaxLayout(uid: string): TransferSyntaxInfo {
  return (
    transferSyntaxInfo(uid) ?? {
      uid,
      name: `Unknown (${uid})`,
      explicitVR: true,
      littleEndian: true,
      encapsulated: true,
      deflated: false,
      retired: false,
    }
  );
}
