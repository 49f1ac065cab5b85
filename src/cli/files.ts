import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { storableHeader } from '../services/store-scu.js';
import { UsageError } from '../errors.js';

/** A file to send with what its meta header says. */
export interface InputFile {
  path: string;
  size: number;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

/**
 * Expand PATH arguments (files and directories, recursively) into DICOM files.
 * A named file that is not DICOM is a usage error; non-DICOM files found inside
 * directories are skipped and reported through `onSkip` (as storescu +sd does).
 */
export async function collectDicomFiles(
  paths: string[],
  onSkip: (path: string, why: string) => void,
): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const p of paths) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(p);
    } catch {
      throw new UsageError('ERR_USAGE', `no such file or directory: ${p}`);
    }
    const candidates: string[] = [];
    const explicit = !st.isDirectory();
    if (explicit) candidates.push(p);
    else await walk(p, candidates);
    for (const file of candidates) {
      try {
        const h = await storableHeader(file);
        const size = (await stat(file)).size;
        out.push({
          path: file,
          size,
          sopClassUid: h.sopClassUid,
          sopInstanceUid: h.sopInstanceUid,
          transferSyntaxUid: h.transferSyntaxUid,
        });
      } catch (err) {
        if (explicit) throw err;
        onSkip(file, err instanceof Error ? err.message : String(err));
      }
    }
  }
  return out;
}
