import { readFileSync } from 'node:fs';

/**
 * Peak resident set size of this process in kB: VmHWM of its own address space. The
 * `ru_maxrss` that process.resourceUsage() reports is not that on Linux: it keeps the high-water
 * mark of the address space the process had before exec, which for a spawned child is its
 * fork of the parent. A bench parent holding a 1 GiB file image when it spawned a client made
 * that client report a 1 GiB peak it never had (its own peak was 70 MB).
 */
export function peakRssKb(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'latin1'));
    if (m) return Number(m[1]);
  } catch {
    // no procfs (not Linux): ru_maxrss is the best there is
  }
  return process.resourceUsage().maxRSS;
}
