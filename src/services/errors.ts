import { DicomnetError, type KindedError } from '../errors.js';

/** A service cannot be used on this association (no accepted context, unusable file, …). */
export class ServiceError extends DicomnetError implements KindedError {
  readonly kind = 'dimse' as const;
}
