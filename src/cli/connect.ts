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

/**
 * End an association after a command failed: released when the failure left it in order
 * (the peer answered with a failure status, or never accepted the context the command
 * needed), aborted otherwise. A refusal then prints only its own line.
 */
export async function endAfterFailure(assoc: Association, err: unknown): Promise<void> {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_NO_PRESENTATION_CONTEXT' || code === 'ERR_DIMSE_STATUS')
    await assoc.release().catch(() => assoc.abort());
  else assoc.abort();
}
