export { DicomnetError, UsageError, type ErrorKind } from './errors.js';
export type * from './tls/types.js';
export type * from './network/channel.js';
