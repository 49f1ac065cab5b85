import { errorKind } from '../../src/errors.js';

export {
  CommandField,
  commandFieldName,
  DimseStatusError,
  describeStatus,
  Status,
  statusCategory,
} from '../../src/dimse/index.js';

/** The kind the CLI would map the error to. */
export function errorKindOf(err: unknown): string {
  return errorKind(err);
}
