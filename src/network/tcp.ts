/** Opening a plain TCP connection to a peer, with a timeout and an error that names the cause. */
import { connect, type Socket } from 'node:net';
import { NetworkError } from './errors.js';

/** Options of {@link connectTcp}. */
export interface ConnectTcpOptions {
  host: string;
  port: number;
  /** Give up connecting after this long (ms; default 30 000). */
  timeoutMs?: number;
  /** Disable Nagle (default true: DICOM PDUs are request/response). */
  noDelay?: boolean;
}

function describeConnectError(err: NodeJS.ErrnoException, where: string): NetworkError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new NetworkError('ERR_CONNECTION_REFUSED', `connection refused to ${where}`, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new NetworkError('ERR_HOST_NOT_FOUND', `host not found: ${where}`, { cause: err });
    case 'ECONNRESET':
      return new NetworkError('ERR_CONNECTION_RESET', `connection reset by ${where}`, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new NetworkError('ERR_HOST_UNREACHABLE', `no route to ${where}`, { cause: err });
    default:
      return new NetworkError('ERR_CONNECT_FAILED', `cannot connect to ${where}: ${err.message}`, {
        cause: err,
      });
  }
}

/** Open a TCP connection; rejects with {@link NetworkError} (refused, not found, timed out). */
export function connectTcp(options: ConnectTcpOptions): Promise<Socket> {
  const where = `${options.host}:${options.port}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host, port: options.port, noDelay: options.noDelay ?? true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new NetworkError('ERR_CONNECT_TIMEOUT', `connection to ${where} timed out after ${timeoutMs} ms`),
      );
    }, timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(describeConnectError(err, where));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(options.noDelay ?? true);
      resolve(socket);
    });
  });
}
