/** Every fuzz target, in the order the CI slice and scripts/fuzz.mjs run them. */
import { charsetTargets } from './charset.js';
import { configTargets } from './config.js';
import { datasetTargets } from './dataset.js';
import { dimseTargets } from './dimse.js';
import { fsmTargets } from './fsm.js';
import type { FuzzTarget } from './harness.js';
import { jsonTargets } from './json.js';
import { part10Targets } from './part10.js';
import { pduTargets } from './pdu.js';
import { wildcardTargets } from './wildcard.js';

export { installWatchdogBuffer } from './harness.js';
export type { FuzzOutcome, FuzzParams, FuzzTarget } from './harness.js';

export const ALL_TARGETS: readonly FuzzTarget[] = [
  ...pduTargets,
  ...fsmTargets,
  ...dimseTargets,
  ...datasetTargets,
  ...part10Targets,
  ...jsonTargets,
  ...charsetTargets,
  ...configTargets,
  ...wildcardTargets,
];

/** Targets whose decoder name contains one of the filters (all when none is given). */
export function selectTargets(filters: readonly string[]): FuzzTarget[] {
  return ALL_TARGETS.filter(
    (t) => filters.length === 0 || filters.some((f) => t.decoder.includes(f) || t.name.includes(f)),
  );
}

/** A counterexample for people: Buffers and byte arrays as hex, the rest as JSON. */
export function describeCounterexample(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (
        v &&
        typeof v === 'object' &&
        (v as { type?: unknown }).type === 'Buffer' &&
        Array.isArray((v as { data?: unknown }).data)
      )
        return `hex:${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
      if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`;
      if (typeof v === 'bigint') return `${v}n`;
      return v;
    },
    0,
  );
}
