import { readFileSync } from 'node:fs';
import type { TlsOptions } from '../tls/types.js';
import type { PeerConfig } from './config.js';
import { ConfigError } from './errors.js';

/**
 * TLS options for an association the node opens to a configured peer (C-MOVE destination,
 * storage commitment report), or undefined for a plain peer. The node's client credentials
 * are the base; the peer's own `client` credentials replace them, and `serverName` is the
 * identity its server certificate is checked against. A TLS peer is never downgraded:
 * without any credentials it still gets TLS (and may refuse us).
 */
export function peerTlsOptions(peer: PeerConfig, clientTls: TlsOptions | undefined): TlsOptions | undefined {
  if (!peer.tls) return undefined;
  const options: TlsOptions = { ...clientTls };
  const own = peer.client;
  if (own) {
    delete options.key;
    delete options.cert;
    delete options.pfx;
    delete options.passphrase;
    if (own.pfx !== undefined) options.pfx = own.pfx;
    if (own.key !== undefined) options.key = own.key;
    if (own.cert !== undefined) options.cert = own.cert;
    if (own.passphraseFile !== undefined) options.passphrase = firstLine(own.passphraseFile);
  }
  if (peer.serverName !== undefined) options.servername = peer.serverName;
  return options;
}

function firstLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
  } catch (err) {
    throw new ConfigError(`peer passphrase file ${file}: cannot read: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
