import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { createLogger, type LogFormat, type Logger } from '../../log.js';
import {
  defaultNodeConfig,
  loadNodeConfig,
  mergeConfig,
  type NodeConfig,
  type NodeConfigOverrides,
} from '../../node/config.js';
import { auditOptionsFromConfig } from '../../node/audit.js';
import { startClusterPrimary } from '../../node/cluster-primary.js';
import { clusterWorkerRole } from '../../node/cluster-worker.js';
import { WORKER_ENV } from '../../node/cluster-ipc.js';
import { describeLooseMode, looseModes, OWNER_ONLY_UMASK } from '../../node/file-modes.js';
import { type NodeOptions, startNode } from '../../node/node.js';
import { onShutdownSignals } from '../../node/shutdown.js';
import type { TlsOptions } from '../../tls/types.js';
import type { CliContext } from '../context.js';
import { addTlsOptions, type CliTlsOptions, parsePort, readPassphraseFile } from '../options.js';

interface ServeCliOptions extends CliTlsOptions {
  port?: number | false;
  tlsPort?: number | false;
  storage?: string;
  aet?: string;
  config?: string;
  host?: string;
  plainHost?: string;
  pki?: string;
  worklist?: string;
  index?: string;
  clientKey?: string;
  clientCert?: string;
  duplicates?: 'keep' | 'replace' | 'reject';
  grace: number;
  logLevel?: string;
  logFormat?: Exclude<LogFormat, 'line'>;
  auditFile?: string;
  auditSyslog?: { host: string; port?: number };
  workers?: number | 'auto';
}

function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new InvalidArgumentError(
      `expected a number of workers 1-1024 or "auto", got ${JSON.stringify(value)}`,
    );
  return n;
}

/**
 * A worker's share of the limits it applies by itself (TLS handshakes, A-ASSOCIATE-RQ
 * bytes), so that their sum over the workers stays within the node's; associations,
 * connections per minute and pending connections are counted by the primary.
 */
function workerLimits(limits: NodeConfig['limits'], workers: number): NodeConfig['limits'] {
  const share = (n: number, floor: number) => (n === 0 ? 0 : Math.max(floor, Math.floor(n / workers)));
  return {
    ...limits,
    maxTlsHandshakes: share(limits.maxTlsHandshakes, 1),
    maxPendingRequestBytes: share(limits.maxPendingRequestBytes, 64 * 1024),
  };
}

function parseHostPort(value: string): { host: string; port?: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:]+)(?::(\d+))?$/.exec(value);
  if (!m?.[1]) throw new InvalidArgumentError(`expected HOST or HOST:PORT, got ${JSON.stringify(value)}`);
  return m[2] === undefined ? { host: m[1] } : { host: m[1], port: parsePort(m[2]) };
}

function portOrOff(value: string): number | false {
  return value === 'off' || value === '0' ? false : parsePort(value);
}

/** CLI options → config overrides (only what was given). */
function overridesFrom(opts: ServeCliOptions): NodeConfigOverrides {
  const o: NodeConfigOverrides = {};
  if (opts.aet) o.aet = opts.aet;
  if (opts.port !== undefined) o.port = opts.port;
  if (opts.tlsPort !== undefined) o.tlsPort = opts.tlsPort;
  if (opts.storage) o.storage = opts.storage;
  if (opts.host) o.host = opts.host;
  if (opts.plainHost) o.plainHost = opts.plainHost;
  if (opts.worklist) o.worklistDir = opts.worklist;
  if (opts.index) o.indexUrl = opts.index;
  if (opts.duplicates) o.duplicates = opts.duplicates;
  if (opts.workers !== undefined) o.workers = opts.workers;
  const tls: NodeConfigOverrides['tls'] = {};
  if (opts.key) tls.key = opts.key;
  if (opts.cert) tls.cert = opts.cert;
  if (opts.pfx) tls.pfx = opts.pfx;
  if (opts.ca?.length) tls.ca = opts.ca;
  if (opts.crl?.length) tls.crl = opts.crl;
  if (opts.requirePeerCert !== undefined) tls.requirePeerCertificate = opts.requirePeerCert;
  if (opts.profile) tls.profile = opts.profile;
  if (opts.passphraseFile) tls.passphraseFile = opts.passphraseFile;
  if (Object.keys(tls).length > 0) o.tls = tls;
  const log: NodeConfigOverrides['log'] = {};
  if (opts.logLevel) log.level = opts.logLevel as NodeConfig['log']['level'];
  if (opts.logFormat) log.format = opts.logFormat;
  if (Object.keys(log).length > 0) o.log = log;
  if (opts.auditFile !== undefined || opts.auditSyslog !== undefined) {
    o.audit = {};
    if (opts.auditFile !== undefined) o.audit.file = opts.auditFile === 'off' ? false : opts.auditFile;
    if (opts.auditSyslog !== undefined) o.audit.syslog = opts.auditSyslog;
  }
  return o;
}

function serverTls(config: NodeConfig, opts: ServeCliOptions): TlsOptions {
  const t = config.tls;
  const tls: TlsOptions = {
    ca: t.ca,
    crl: t.crl,
    requirePeerCertificate: t.requirePeerCertificate,
    profile: t.profile,
  };
  if (t.key) tls.key = t.key;
  if (t.cert) tls.cert = t.cert;
  if (t.pfx) tls.pfx = t.pfx;
  if (t.passphraseFile) tls.passphrase = readPassphraseFile(t.passphraseFile);
  if (opts.ciphers) tls.ciphers = opts.ciphers;
  if (opts.tlsMin) tls.minVersion = opts.tlsMin === '1.3' ? 'TLSv1.3' : 'TLSv1.2';
  return tls;
}

/** Credentials the node presents to TLS peers: --client-key/--client-cert, else the server's own. */
function clientTlsFrom(server: TlsOptions, opts: ServeCliOptions): TlsOptions {
  const client: TlsOptions = { ca: server.ca, crl: server.crl, profile: server.profile };
  if (opts.clientKey || opts.clientCert) {
    client.key = opts.clientKey ?? server.key;
    client.cert = opts.clientCert ?? server.cert;
  } else if (server.pfx) client.pfx = server.pfx;
  else {
    client.key = server.key;
    client.cert = server.cert;
  }
  if (server.passphrase !== undefined) client.passphrase = server.passphrase;
  return client;
}

function hostPort(host: string | undefined, port: number): string {
  if (host === undefined) return `port ${port} (all interfaces)`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || /^::ffff:127\./.test(host);
}

/** The banner's statement of who may do what. */
function accessLines(config: NodeConfig): string[] {
  const list = (services: readonly string[]) => (services.length > 0 ? services.join(', ') : 'nothing');
  const lines = [
    '  access:',
    `    unknown peers (no client certificate)          ${list(config.access.unknownPeers)}`,
    `    authenticated peers (certificate from the CA)  ${list(config.access.authenticatedPeers)}`,
  ];
  const peers = Object.keys(config.peers);
  if (peers.length > 0)
    lines.push(`    configured peers (${peers.join(', ')})  as set under peers (default: all services)`);
  return lines;
}

/**
 * How to run this CLI from another shell, as printed: `dicomnet` when it was started from the
 * PATH (`npm link`, `npm install -g`), `npx dicomnet` when started in the checkout (the
 * package's own bin), else `node` with the absolute path of the entry that runs now.
 */
function pastableCommand(): string {
  const entry = process.argv[1];
  if (entry === undefined) return 'npx dicomnet';
  const root = resolve(dirname(entry), '..');
  const inCheckout = resolve(process.cwd()) === root && existsSync(join(root, 'package.json'));
  if (basename(entry) === 'dicomnet') return 'dicomnet'; // started from the PATH
  return inCheckout && basename(entry) === 'dicomnet.js' ? 'npx dicomnet' : `node ${shellWord(entry)}`;
}

/** A path as one shell word (quoted only when it needs to be). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function registerServe(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('serve')
    .description('run the secure DICOM node: storage, index, Query/Retrieve')
    .option('--port <port>', 'plain DICOM port ("off" disables)', portOrOff)
    .option('--tls-port <port>', 'TLS port ("off" disables)', portOrOff)
    .option('--storage <dir>', 'instances and index (default ./data/storage)')
    .option('--aet <aet>', 'AE title the node answers to (default DICOMNET)')
    .option('--host <host>', 'address of the TLS listener (default all interfaces)')
    .option(
      '--plain-host <host>',
      'address of the plain listener (default 127.0.0.1; plain DICOM is unauthenticated and unencrypted)',
    )
    .option('--config <file>', 'configuration file (JSON or YAML)')
    .option('--pki <dir>', 'development PKI made on first start when no key/cert is given', './data/pki')
    .option(
      '--client-key <file>',
      'key for C-MOVE / commitment reports to TLS peers (default: the server key)',
    )
    .option(
      '--client-cert <file>',
      'certificate for associations to TLS peers (default: the server certificate)',
    )
    .option('--worklist <dir>', 'directory of DICOM JSON Modality Worklist items (loaded at start)')
    .option(
      '--index <url>',
      'Q/R index in PostgreSQL (postgres://USER@HOST:PORT/DB; needs the optional package pg); default SQLite in the storage directory',
    )
    .addOption(
      new Option('--duplicates <policy>', 'a second instance with a stored SOP Instance UID').choices([
        'keep',
        'replace',
        'reject',
      ]),
    )
    .option(
      '--grace <seconds>',
      'on SIGINT/SIGTERM, let running associations finish this long before aborting them',
      (v) => Number.parseFloat(v),
      10,
    )
    .addOption(
      new Option('--log-level <level>', 'log level').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'fatal',
        'silent',
      ]),
    )
    .addOption(new Option('--log-format <format>', 'log format (default json)').choices(['json', 'pretty']))
    .option(
      '--audit-file <file>',
      'append-only audit trail, JSON lines ("off" disables; default STORAGE/audit.log)',
    )
    .option(
      '--workers <n>',
      'worker processes sharing the ports, storage and index ("auto" = one per core; default 1)',
      parseWorkers,
    )
    .option(
      '--audit-syslog <host[:port]>',
      'also send the audit trail to this syslog collector over TLS (RFC 5425, port 6514)',
      parseHostPort,
    );
  addTlsOptions(cmd, 'server');
  cmd.option('--no-require-peer-cert', 'make client certificates optional on the TLS listener');
  cmd.action(async (opts: ServeCliOptions) => {
    // instances, index and keys: nothing this process creates is for group or others
    process.umask(OWNER_ONLY_UMASK);
    const base = opts.config ? loadNodeConfig(opts.config) : defaultNodeConfig();
    const config = mergeConfig(base, overridesFrom(opts));
    const log = createLogger({ level: config.log.level, format: config.log.format });
    const tlsEnabled = config.tlsPort !== null;
    let tls: TlsOptions | undefined;
    let clientTls: TlsOptions | undefined;
    let devClient: TlsOptions | undefined;
    let devPkiDir: string | undefined;
    if (tlsEnabled) {
      if (!config.tls.key && !config.tls.cert && !config.tls.pfx) {
        const pkiDir = resolve(opts.pki ?? './data/pki');
        devPkiDir = pkiDir;
        const firstStart = !existsSync(join(pkiDir, 'ca.crt'));
        // the PKI code (x509, ASN.1) is loaded only when the development PKI is used
        const { createDevelopmentPki } = await import('../../tls/pki.js');
        const pki = await createDevelopmentPki(pkiDir);
        config.tls.key = pki.serverKey;
        config.tls.cert = pki.serverCertificate;
        if (config.tls.ca.length === 0) config.tls.ca = [pki.caCertificate];
        clientTls = { key: pki.clientKey, cert: pki.clientCertificate, ca: [pki.caCertificate] };
        devClient = clientTls;
        if (!cluster.isWorker)
          ctx.stdout.write(
            [
              `development PKI ${firstStart ? 'created' : 'reused'} in ${pkiDir} (for testing only)`,
              `  CA certificate  ${pki.caCertificate}`,
              `  CA SHA-256      ${pki.caFingerprint256}`,
              `  server          ${pki.serverCertificate} (SAN localhost, 127.0.0.1, ${hostname()})`,
              `  client          ${pki.clientCertificate} / ${pki.clientKey}`,
              '',
            ].join('\n'),
          );
      }
      if (config.tls.requirePeerCertificate && config.tls.ca.length === 0 && !config.tls.pfx)
        throw new UsageError(
          'ERR_USAGE',
          'serve requires client certificates on its TLS listener: give --ca (the CA that issues them), or --no-require-peer-cert to make them optional',
        );
      tls = serverTls(config, opts);
    }
    // explicit client credentials win; else the dev PKI's client pair; else the server's own
    if (opts.clientKey || opts.clientCert || (!clientTls && (config.tls.key || config.tls.pfx)))
      clientTls = clientTlsFrom(tls ?? serverTls(config, opts), opts);
    const audit = auditOptionsFromConfig(config, clientTls);
    const nodeOptions: NodeOptions = {
      aet: config.aet,
      port: config.port ?? false,
      tlsPort: tlsEnabled ? (config.tlsPort as number) : false,
      host: config.host,
      plainHost: config.plainHost,
      access: config.access,
      requireBoundAeTitles: config.requireBoundAeTitles,
      storageDir: resolve(config.storage),
      duplicates: config.duplicates,
      acceptAnyCalledAet: config.acceptAnyCalledAet,
      tls,
      clientTls,
      peers: config.peers,
      accept: config.accept,
      worklistDir: config.worklistDir,
      indexUrl: config.index?.url,
      limits: config.limits,
      logger: log,
      audit,
    };
    const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
    if (cluster.isWorker) {
      await runWorker(nodeOptions, workers, log);
      return;
    }
    const starting =
      workers > 1
        ? startClusterPrimary({ ...nodeOptions, limits: config.limits, workers, logger: log })
        : startNode(nodeOptions);
    // signals are handled from here on, so one that arrives during start-up stops the node cleanly
    const stopped = onShutdownSignals(starting, log, Math.max(0, opts.grace) * 1000);
    stopped.catch(() => undefined); // a start-up failure is reported by `await starting`
    const node = await starting;
    const lines = [
      `dicomnet serve: AE ${config.aet}, storage ${resolve(config.storage)}${workers > 1 ? `, ${workers} worker processes` : ''}`,
    ];
    if (node.ports.plain !== undefined)
      lines.push(
        `  plain DICOM on ${hostPort(config.plainHost, node.ports.plain)} (unauthenticated, unencrypted${isLoopback(config.plainHost) ? ': this machine only' : ''})`,
      );
    if (audit.file || audit.syslog)
      lines.push(
        `  audit trail ${[audit.file, audit.syslog && `syslog over TLS to ${audit.syslog.host}:${audit.syslog.port ?? 6514}`].filter(Boolean).join(', ')}`,
      );
    if (node.ports.tls !== undefined) {
      lines.push(
        `  DICOM over TLS on ${hostPort(config.host, node.ports.tls)}, client certificates ${config.tls.requirePeerCertificate ? 'required' : 'optional'}`,
      );
      if (devClient) {
        lines.push(
          `  try: ${pastableCommand()} echo --tls --ca ${shellWord(String(devClient.ca))} --key ${shellWord(String(devClient.key))} --cert ${shellWord(String(devClient.cert))} --aec ${config.aet} localhost ${node.ports.tls}`,
        );
      }
    }
    lines.push(...accessLines(config));
    ctx.stdout.write(`${lines.join('\n')}\n`);
    if (node.ports.plain !== undefined && !isLoopback(config.plainHost)) {
      const warning = `plain DICOM listener on ${hostPort(config.plainHost, node.ports.plain)} is open to the network: it is unauthenticated and unencrypted (any peer may use: ${config.access.unknownPeers.join(', ') || 'nothing'})`;
      ctx.stderr.write(`dicomnet serve: warning: ${warning}\n`);
      log.warn({ plainHost: config.plainHost, port: node.ports.plain }, warning);
    }
    if (node.ports.tls !== undefined && !config.tls.requirePeerCertificate)
      log.warn(
        { port: node.ports.tls },
        'TLS listener accepts clients without a certificate (tls.requirePeerCertificate false)',
      );
    const storageDir = resolve(config.storage);
    const checked = [storageDir, join(storageDir, 'index.db'), config.tls.key, config.tls.pfx];
    if (audit.file) checked.push(audit.file);
    if (devPkiDir)
      checked.push(
        devPkiDir,
        ...['ca.key', 'server.key', 'client.key'].map((f) => join(devPkiDir as string, f)),
      );
    for (const loose of looseModes(checked.filter((p): p is string => p !== undefined))) {
      const warning = describeLooseMode(loose);
      ctx.stderr.write(`dicomnet serve: warning: ${warning}\n`);
      log.warn({ path: loose.path, mode: loose.mode.toString(8) }, warning);
    }
    log.info({ ports: node.ports, aet: config.aet }, 'node started');
    const signal = await stopped;
    log.info({ signal }, 'node stopped');
  });
}

/**
 * One worker of `serve --workers N`: the node without listeners, serving the connections
 * its primary hands over, until the primary says stop (or is gone). Signals are the
 * primary's to act on: Ctrl-C reaches the whole process group, and the primary drains
 * every worker with one grace period.
 */
async function runWorker(options: NodeOptions, workers: number, log: Logger): Promise<void> {
  const index = Number(process.env[WORKER_ENV] ?? 0);
  const worker = clusterWorkerRole(index);
  const ignore = (signal: NodeJS.Signals) =>
    log.debug({ signal, worker: index }, 'signal left to the primary');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  let stop: { graceMs: number; abort: boolean } | undefined;
  let stopped = false;
  const finish = () => {
    if (!node || !stop || stopped) return;
    stopped = true;
    const closing = node.close(stop.graceMs);
    if (stop.abort) void node.close(0);
    void closing.finally(() => process.exit(0));
  };
  worker.onStop((ms, abort) => {
    if (stopped && abort) {
      void node?.close(0);
      return;
    }
    stop = { graceMs: abort ? 0 : ms, abort };
    finish();
  });
  node = await startNode({
    ...options,
    limits: options.limits ? workerLimits(options.limits, workers) : undefined,
    cluster: worker.role,
  });
  log.info({ worker: index, pid: process.pid }, 'worker started');
  worker.ready();
  finish();
}
