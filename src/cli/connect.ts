import { formatSecureLink } from '../tls/describe.js';
import { getSecurityProfile } from '../tls/profiles.js';
import { type Association, type ConnectOptions, connect } from '../services/client.js';
import type { ProposedContext } from '../services/presentation.js';
import type { Logger } from '../log.js';
import { type CliTlsOptions, type CommonNetworkOptions, parsePort, tlsOptionsFromCli } from './options.js';

/** Open an association from the common CLI options. */
export async function connectFromCli(
  host: string,
  port: string,
  opts: CommonNetworkOptions & CliTlsOptions,
  log: Logger,
  contexts: ProposedContext[],
  extra: Partial<ConnectOptions> = {},
): Promise<Association> {
  if (opts.profile && getSecurityProfile(opts.profile).retired) {
    // shown whatever the log level: a retired profile weakens the link
    process.stderr.write(
      `dicomnet: warning: TLS profile '${opts.profile}' is retired (PS3.15 Annex B); use it only for legacy peers\n`,
    );
  }
  const assoc = await connect({
    host,
    port: parsePort(port),
    callingAet: opts.aet,
    calledAet: opts.aec,
    tls: tlsOptionsFromCli(opts, 'client'),
    timeoutMs: opts.timeout !== undefined ? opts.timeout * 1000 : undefined,
    maxPduLength: opts.maxPdu,
    logger: log,
    contexts,
    ...extra,
  });
  if (assoc.secureLink)
    log.info({ secureLink: assoc.secureLink }, `secure link: ${formatSecureLink(assoc.secureLink)}`);
  return assoc;
}
