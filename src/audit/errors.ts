import { DicomnetError, type KindedError } from '../errors.js';

/** A syslog frame or message a receiver cannot accept (bad MSG-LEN, too long, bad header). */
export class SyslogFrameError extends DicomnetError implements KindedError {
  declare readonly code: 'ERR_SYSLOG_FRAME';
  readonly kind = 'parse' as const;

  constructor(message: string) {
    super('ERR_SYSLOG_FRAME', message);
  }
}

/** The audit trail cannot be set up: an unreadable CA/certificate/key, an audit file that cannot be opened. */
export class AuditConfigError extends DicomnetError implements KindedError {
  declare readonly code: 'ERR_AUDIT_CONFIG';
  readonly kind = 'usage' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_AUDIT_CONFIG', message, options);
  }
}
