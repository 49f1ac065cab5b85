import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../../src/services/client.js';
import { DicomServer, type DicomServerOptions } from '../../src/services/server.js';
import { SopClass } from '../../src/services/sop-classes.js';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/pki.js';
import type { TlsOptions } from '../../src/tls/types.js';
import { hasDcmtk, run } from '../helpers/dcmtk.js';
import { eventually as waitUntil } from '../helpers/raw-peer.js';

/** A fresh scratch directory. */
export function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dicomnet-svc-${prefix}-`));
}

/** Files in `dir` (none when it does not exist). */
export function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A server on 127.0.0.1:0 with `tempDir` set to a fresh directory. */
export async function startServer(
  options: Partial<DicomServerOptions> = {},
  listen: { secure?: boolean } = {},
): Promise<{ server: DicomServer; port: number; tempDir: string }> {
  const tempDir = options.tempDir ?? scratch('incoming');
  const server = new DicomServer({ aet: 'DICOMNET', ...options, tempDir });
  const { port } = await server.listen({ port: 0, host: '127.0.0.1', ...listen });
  return { server, port, tempDir };
}

/** Verification only: the smallest association. */
export const ECHO_CONTEXTS = [
  { abstractSyntax: SopClass.Verification, transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] },
];

/** dicomnet connect + C-ECHO + release must succeed. */
export async function dicomnetEcho(
  port: number,
  options: { tls?: TlsOptions; callingAet?: string } = {},
): Promise<void> {
  const assoc = await connect({
    host: '127.0.0.1',
    port,
    calledAet: 'DICOMNET',
    callingAet: options.callingAet ?? 'GOODSCU',
    contexts: ECHO_CONTEXTS,
    tls: options.tls,
    timeoutMs: 10_000,
  });
  await assoc.echo();
  await assoc.release();
}

/** After something hostile: a good association (dicomnet, and DCMTK echoscu when installed) still works. */
export async function goodAssociationsStillWork(
  port: number,
  options: { tls?: TlsOptions; echoscuTls?: string[] } = {},
): Promise<void> {
  await dicomnetEcho(port, { tls: options.tls });
  if (!hasDcmtk()) return;
  const r = await run('echoscu', [
    ...(options.echoscuTls ?? []),
    '-aec',
    'DICOMNET',
    '127.0.0.1',
    String(port),
  ]);
  assert.equal(r.code, 0, `echoscu must still be served: ${r.stdout}${r.stderr}`);
}

/** Everything the server sends until it closes the connection (or `timeoutMs` passes). */
export function readUntilClosed(
  socket: Socket,
  timeoutMs = 5000,
): Promise<{ bytes: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed: false });
    }, timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), closed: true });
    });
  });
}

/** A small PKI for service tests: a CA, a server (localhost/127.0.0.1) and named clients. */
export interface ServicePki {
  ca: string;
  server: { key: string; cert: string };
  /** Second server certificate of the same CA (for hot reload). */
  server2: { key: string; cert: string };
  clients: Record<string, { key: string; cert: string }>;
}

/** Make a CA, two server certificates and one client certificate per name (CN = name). */
export async function makeServicePki(dir: string, clientNames: string[]): Promise<ServicePki> {
  const ca = await createCertificateAuthority({ commonName: 'dicomnet services test CA' });
  const san = ['DNS:localhost', 'IP:127.0.0.1'];
  const [server, server2, ...clients] = await Promise.all([
    issueCertificate(ca, { commonName: 'localhost', san }),
    issueCertificate(ca, { commonName: 'localhost', san }),
    ...clientNames.map((n) =>
      issueCertificate(ca, { commonName: n, client: true, san: [`DNS:${n.toLowerCase()}.example.org`] }),
    ),
  ]);
  const write = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text, { mode: 0o600 });
    return path;
  };
  const pair = async (name: string, c: { certificatePem: string; keyPem: string }) => ({
    cert: await write(`${name}.crt`, c.certificatePem),
    key: await write(`${name}.key`, c.keyPem),
  });
  const out: ServicePki = {
    ca: await write('ca.crt', ca.certificatePem),
    server: await pair('server', server as { certificatePem: string; keyPem: string }),
    server2: await pair('server2', server2 as { certificatePem: string; keyPem: string }),
    clients: {},
  };
  for (const [i, name] of clientNames.entries()) {
    out.clients[name] = await pair(
      `client-${name}`,
      clients[i] as { certificatePem: string; keyPem: string },
    );
  }
  return out;
}

/** Client TLS options for a named client of {@link makeServicePki}. */
export function clientTls(pki: ServicePki, name: string): TlsOptions {
  const c = pki.clients[name];
  assert.ok(c, `no client ${name}`);
  return { key: c.key, cert: c.cert, ca: [pki.ca] };
}

/** DCMTK `echoscu +tls` as a named client of {@link makeServicePki}; asserts that it succeeds. */
export async function dcmtkTlsEcho(pki: ServicePki, name: string, port: number): Promise<void> {
  const c = pki.clients[name];
  assert.ok(c, `no client ${name}`);
  const r = await run('echoscu', [
    '+tls',
    c.key,
    c.cert,
    '+cf',
    pki.ca,
    '-aec',
    'DICOMNET',
    '127.0.0.1',
    String(port),
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

/** Copy a file's content over another in place (same inode: what a watcher sees as a change). */
export async function overwrite(target: string, source: string): Promise<void> {
  await writeFile(target, await readFile(source));
}

export { pdu, rawSocket } from '../helpers/raw-peer.js';

/** Wait until `check` holds (polling), or fail naming `what`; service tests wait 5 s by default. */
export function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  return waitUntil(check, what, timeoutMs);
}
