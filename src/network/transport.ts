/** Opening an association as requestor over TCP or TLS: connect, handshake, then negotiate. */
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { prepareClientTls, secureClientConnect } from '../tls/client.js';
import { handshakeError } from '../tls/handshake-errors.js';
import type { SecureLinkInfo, TlsOptions } from '../tls/types.js';
import type { AssociationChannel } from './channel.js';
import { requestAssociation } from './requestor.js';
import { connectTcp } from './tcp.js';

/** A presentation context as the requestor proposes it. */
export interface ContextProposal {
  abstractSyntax: string;
  transferSyntaxes: string[];
  scuRole?: boolean;
  scpRole?: boolean;
}

/** Everything needed to open an association as requestor, over TCP or TLS. */
export interface OpenAssociationOptions {
  host: string;
  port: number;
  /** Our AE title (default `DICOMNET`). */
  callingAet?: string;
  /** The peer's AE title (default `ANY-SCP`). */
  calledAet?: string;
  contexts: ContextProposal[];
  /** Secure the connection (PS3.15 Annex B); absent = plain TCP. */
  tls?: TlsOptions;
  /** Largest PDU we accept (default 16384, as DCMTK). */
  maxPduLength?: number;
  /** Asynchronous operations window we propose (invoked, performed); default 1/1. */
  asyncOps?: { invoked: number; performed: number };
  /** Connect, handshake and association timeouts in ms (default 30 s). */
  timeoutMs?: number;
  /** Abort after this long without traffic once established (ms; default none). */
  idleTimeoutMs?: number;
  logger?: Logger;
  /** Called once the TLS handshake completes, before A-ASSOCIATE (LDicomNet `OnSecureLinkReady`). */
  onSecureLinkReady?: (info: SecureLinkInfo) => void;
}

/** An open association and, over TLS, what the handshake negotiated. */
export interface OpenedAssociation {
  channel: AssociationChannel;
  secureLink?: SecureLinkInfo;
}

/** Connect (TCP, then TLS when asked), then negotiate the association. */
export async function openAssociation(options: OpenAssociationOptions): Promise<OpenedAssociation> {
  const log = options.logger ?? silentLogger();
  const timeoutMs = options.timeoutMs ?? 30_000;
  // the key, certificates and CAs are read before the connection is opened: a missing file
  // fails here, not as a handshake failure half-way through a connection
  if (options.tls) await prepareClientTls(options.tls, log);
  const socket = await connectTcp({ host: options.host, port: options.port, timeoutMs });
  let stream: Duplex = socket;
  let secureLink: SecureLinkInfo | undefined;
  try {
    if (options.tls) {
      const secured = await secureClientConnect(
        socket,
        {
          ...options.tls,
          host: options.host,
          port: options.port,
          handshakeTimeoutMs: timeoutMs,
          configuration: options.tls,
        },
        log,
      );
      stream = secured.socket;
      secureLink = secured.info;
      options.onSecureLinkReady?.(secureLink);
    }
    const channel = await requestAssociation(stream, {
      callingAet: options.callingAet ?? 'DICOMNET',
      calledAet: options.calledAet ?? 'ANY-SCP',
      contexts: options.contexts,
      maxPduLength: options.maxPduLength,
      asyncOps: options.asyncOps,
      timeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      logger: log,
    });
    return { channel, secureLink };
  } catch (err) {
    stream.destroy();
    // TLS 1.3: a server that refuses our certificate says so after our side saw the handshake complete
    if (secureLink && isTlsAlert(err)) {
      throw handshakeError((err as Error).cause ?? err, {
        side: 'client',
        peer: `${options.host}:${options.port}`,
      });
    }
    throw err;
  }
}

function isTlsAlert(err: unknown): boolean {
  const texts = [err instanceof Error ? err.message : String(err)];
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) texts.push(cause.message);
  return texts.some((t) => /SSL routines|ssl3_read_bytes|alert/i.test(t));
}
