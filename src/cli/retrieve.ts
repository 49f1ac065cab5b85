import { UsageError } from '../errors.js';
import type { RetrieveProgress } from '../services/client.js';

/** C-MOVE and C-GET take patient or study root. */
export function retrieveModel(model: string): 'patient' | 'study' {
  if (model === 'patient' || model === 'study') return model;
  throw new UsageError('ERR_USAGE', `-m ${model} cannot retrieve; use patient or study`);
}

/** `status 0xFF00: remaining 3, completed 2, failed 0, warning 0`. */
export function formatRetrieve(p: RetrieveProgress): string {
  const hex = `0x${p.status.toString(16).toUpperCase().padStart(4, '0')}`;
  return `status ${hex}: remaining ${p.remaining ?? '-'}, completed ${p.completed ?? '-'}, failed ${p.failed ?? '-'}, warning ${p.warning ?? '-'}`;
}
