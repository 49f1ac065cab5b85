/**
 * The node's files are owner-only: instances and the index hold PHI, the PKI directory
 * private keys. `dicomnet serve` sets the process umask so that everything it creates is
 * 0600 / 0700, and warns about what it finds already there with a looser mode.
 */
import { statSync } from 'node:fs';

/** The umask of `serve`: no group or other permission on anything it creates. */
export const OWNER_ONLY_UMASK = 0o077;

/** A path whose mode lets group or others in. */
export interface LooseMode {
  path: string;
  /** Permission bits, e.g. 0o755. */
  mode: number;
  kind: 'file' | 'directory';
}

/** The given paths that exist with group or other permission bits (missing ones are skipped). */
export function looseModes(paths: Iterable<string>): LooseMode[] {
  const found: LooseMode[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    if (seen.has(path)) continue;
    seen.add(path);
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) found.push({ path, mode, kind: st.isDirectory() ? 'directory' : 'file' });
  }
  return found;
}

/** The warning for one loose mode, with the command that fixes it. */
export function describeLooseMode(loose: LooseMode): string {
  const wanted = loose.kind === 'directory' ? '700' : '600';
  return `${loose.kind} ${loose.path} has mode ${loose.mode.toString(8).padStart(3, '0')}: group or others can read it; chmod ${wanted} ${loose.path}`;
}
