import { closeSync, openSync, readSync } from 'node:fs';
import type { BulkDataRef } from './dataset.js';
import { DicomParseError } from './errors.js';
import { swapUnit, type VR } from './vr.js';

/**
 * Read the bytes a bulk reference points at, in little-endian order (values of a big-endian file
 * are swapped per VR). Meant for values of moderate size; stream large ones with the writer.
 */
export function readBulkData(ref: BulkDataRef, vr: VR): Buffer {
  const fd = openSync(ref.file, 'r');
  try {
    const buf = Buffer.alloc(ref.length);
    let got = 0;
    while (got < ref.length) {
      const n = readSync(fd, buf, got, ref.length - got, ref.offset + got);
      if (n === 0) {
        throw new DicomParseError(
          'ERR_TRUNCATED',
          `bulk data ${ref.file} ends before offset ${ref.offset + ref.length}`,
          {
            offset: ref.offset + got,
          },
        );
      }
      got += n;
    }
    const unit = swapUnit(vr);
    if (ref.bigEndian && unit >= 2) {
      const view = buf.subarray(0, buf.length - (buf.length % unit));
      if (unit === 2) view.swap16();
      else if (unit === 4) view.swap32();
      else view.swap64();
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}
