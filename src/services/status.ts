import { type CommandSet, DimseStatusError, statusCategory } from '../dimse/index.js';

/** Throw a {@link DimseStatusError} unless the response status is success or warning. */
export function assertSuccess(response: CommandSet, requestField: number): void {
  const status = response.status ?? 0;
  const category = statusCategory(status);
  if (category === 'success' || category === 'warning') return;
  throw new DimseStatusError(status, requestField, response.errorComment);
}
