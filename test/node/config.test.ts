import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  defaultNodeConfig,
  loadNodeConfig,
  mergeConfig,
  parseNodeConfig,
  peerTlsOptions,
} from '../../src/node/index.js';
import { tempRoot } from './helpers.js';

// dist/test/node/config.test.js: the repository root is three levels up; else the working directory.
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = process.env.DICOMNET_REPO ?? resolve(here, '..', '..', '..');
const examples = [join(repoRoot, 'examples'), join(process.cwd(), 'examples')];

function exampleFile(name: string): string {
  for (const dir of examples) {
    const path = join(dir, name);
    try {
      loadNodeConfig(path);
      return path;
    } catch (err) {
      if (!(err instanceof ConfigError) || !/cannot read/.test(err.message)) throw err;
    }
  }
  throw new Error(`example ${name} not found`);
}

function rejects(raw: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseNodeConfig(raw),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.code === 'ERR_CONFIG' &&
      err.kind === 'usage' &&
      pattern.test(err.message),
    `expected ${pattern}`,
  );
}

test('defaults follow DESIGN.md', () => {
  const config = parseNodeConfig({});
  assert.equal(config.aet, 'DICOMNET');
  assert.equal(config.port, 11112);
  assert.equal(config.tlsPort, 2762);
  assert.equal(config.storage, './data/storage');
  assert.equal(config.duplicates, 'keep');
  assert.equal(config.tls.profile, 'bcp195-rfc8996');
  // secure defaults (DESIGN.md "Access control"): mutual TLS, plain on loopback, little for strangers
  assert.equal(config.tls.requirePeerCertificate, true);
  assert.equal(config.plainHost, '127.0.0.1');
  assert.equal(config.host, undefined);
  assert.equal(config.requireBoundAeTitles, false);
  assert.deepEqual(config.access, {
    unknownPeers: ['echo', 'store'],
    authenticatedPeers: ['echo', 'store', 'find', 'get', 'worklist', 'mpps', 'commitment'],
  });
  assert.deepEqual(config, defaultNodeConfig());
});

test('access control settings: access.*, peers.X.allow / moveDestinations, plainHost, requireBoundAeTitles', () => {
  const config = parseNodeConfig({
    plainHost: '0.0.0.0',
    host: '::',
    requireBoundAeTitles: true,
    tls: { requirePeerCertificate: false },
    access: { unknownPeers: ['echo'], authenticatedPeers: [] },
    peers: {
      MODALITY1: {
        identity: ['modality1.example.org'],
        allow: ['echo', 'store', 'mpps'],
        moveDestinations: ['VIEWER'],
      },
      VIEWER: { host: 'viewer.example.org', port: 104 },
      ROUTER: { moveDestinations: '*' },
    },
  });
  assert.equal(config.plainHost, '0.0.0.0');
  assert.equal(config.host, '::');
  assert.equal(config.requireBoundAeTitles, true);
  assert.equal(config.tls.requirePeerCertificate, false);
  assert.deepEqual(config.access, { unknownPeers: ['echo'], authenticatedPeers: [] });
  assert.deepEqual(config.peers.MODALITY1?.allow, ['echo', 'store', 'mpps']);
  assert.deepEqual(config.peers.MODALITY1?.moveDestinations, ['VIEWER']);
  assert.equal(config.peers.MODALITY1?.host, undefined, 'a peer that is never called needs no address');
  assert.deepEqual(config.peers.ROUTER?.moveDestinations, ['*']);
  assert.equal(config.peers.VIEWER?.allow, undefined, 'absent: all services');
  // one side of the access settings keeps the other's default
  assert.deepEqual(parseNodeConfig({ access: { unknownPeers: [] } }).access.authenticatedPeers, [
    ...defaultNodeConfig().access.authenticatedPeers,
  ]);
  const merged = mergeConfig(config, { plainHost: '127.0.0.2', tls: { requirePeerCertificate: true } });
  assert.equal(merged.plainHost, '127.0.0.2');
  assert.equal(merged.tls.requirePeerCertificate, true);
  assert.deepEqual(merged.access, config.access);

  rejects(
    { access: { unknownPeers: ['echo', 'delete'] } },
    /^config access\.unknownPeers\[1\]: must be one of echo, store, find, get, move, worklist, mpps, commitment, got "delete"/,
  );
  rejects({ access: { unknownPeers: 'echo' } }, /^config access\.unknownPeers: must be a list of services/);
  rejects({ access: { everyone: [] } }, /^config access\.everyone: unknown setting/);
  rejects({ peers: { A: { allow: ['find', 'write'] } } }, /^config peers\.A\.allow\[1\]: must be one of/);
  rejects(
    { peers: { A: { moveDestinations: ['B'] } } },
    /^config peers\.A\.moveDestinations\[0\]: is not a configured peer, got "B"/,
  );
  rejects({ requireBoundAeTitles: 'yes' }, /^config requireBoundAeTitles: must be true or false/);
  rejects({ plainHost: '' }, /^config plainHost: must be a non-empty string/);
});

test('the example YAML and JSON files load and agree', () => {
  const yaml = loadNodeConfig(exampleFile('dicomnet.config.yaml'));
  const json = loadNodeConfig(exampleFile('dicomnet.config.json'));
  assert.deepEqual(json, yaml);
  assert.equal(yaml.peers.STORESCP?.tls, true);
  assert.deepEqual(yaml.peers.STORESCP?.identity, ['storescp.example.org']);
  assert.equal(yaml.peers.STORESCP?.serverName, 'storescp.example.org');
  assert.ok(yaml.peers.STORESCP?.client?.key?.endsWith(join('data', 'pki', 'client.key')));
  assert.ok(yaml.accept.sopClasses?.includes('1.2.840.10008.5.1.4.1.1.2'));
  assert.ok(yaml.accept.transferSyntaxes?.includes('1.2.840.10008.1.2.1'));
  assert.equal(yaml.tls.requirePeerCertificate, true);
  assert.ok(yaml.tls.cert?.endsWith(join('data', 'pki', 'server.crt')));
  assert.ok(resolve(yaml.storage) === yaml.storage, 'paths are resolved against the file');
});

test('relative paths resolve against the config file; ports may be disabled', (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const file = join(dir, 'node.yml');
  writeFileSync(
    file,
    'port: false\ntlsPort: 2763\nstorage: store\ntls: { pfx: a.p12, ca: ca.pem }\nworklistDir: wl\n',
  );
  const config = loadNodeConfig(file);
  assert.equal(config.port, null);
  assert.equal(config.storage, join(dir, 'store'));
  assert.equal(config.tls.pfx, join(dir, 'a.p12'));
  assert.deepEqual(config.tls.ca, [join(dir, 'ca.pem')]);
  assert.equal(config.worklistDir, join(dir, 'wl'));
  writeFileSync(join(dir, 'node.conf'), '{"aet": "X"}');
  assert.equal(loadNodeConfig(join(dir, 'node.conf')).aet, 'X');
});

test('validation errors name the field', () => {
  rejects(
    { peers: { STORESCP: { host: 'h', port: 'abc' } } },
    /^config peers\.STORESCP\.port: must be an integer 1-65535, got "abc"$/,
  );
  rejects(
    { peers: { STORESCP: { host: 'h', port: 70000 } } },
    /peers\.STORESCP\.port: must be an integer 1-65535, got 70000/,
  );
  // host and port are optional (a peer that is never called), but only together
  rejects(
    { peers: { STORESCP: { port: 104 } } },
    /peers\.STORESCP\.host: host and port must be given together/,
  );
  rejects(
    { peers: { STORESCP: { host: '', port: 104 } } },
    /peers\.STORESCP\.host: must be a non-empty string, got ""/,
  );
  rejects(
    { peers: { 'THIS-TITLE-IS-TOO-LONG': { host: 'h', port: 104 } } },
    /peers\.THIS-TITLE-IS-TOO-LONG \(AE title\)/,
  );
  rejects(
    { peers: { A: { host: 'h', port: 1, tls: 'yes' } } },
    /peers\.A\.tls: must be true or false, got "yes"/,
  );
  rejects({ peers: { A: { host: 'h', port: 1, colour: 1 } } }, /peers\.A\.colour: unknown setting/);
  rejects({ aet: 'A\\B' }, /^config aet: must be an AE title/);
  rejects({ aet: '' }, /^config aet:/);
  rejects({ port: 0 }, /^config port: must be an integer 1-65535, got 0/);
  rejects({ port: 104, tlsPort: 104 }, /tlsPort: must differ from port 104/);
  rejects({ duplicates: 'overwrite' }, /duplicates: must be one of keep, replace, reject, got "overwrite"/);
  rejects({ tls: { profile: 'tls13' } }, /tls\.profile: must be one of bcp195-rfc8996/);
  rejects({ tls: { key: 'k.pem' } }, /tls\.cert: key and cert must be given together/);
  rejects({ tls: { pfx: 'a.p12', key: 'k', cert: 'c' } }, /tls\.pfx: give either pfx or key and cert/);
  rejects({ tls: { ca: [1] } }, /tls\.ca\[0\]: must be a non-empty string/);
  rejects(
    { limits: { maxPduLength: 100 } },
    /limits\.maxPduLength: must be an integer 4096-4294967295, got 100/,
  );
  rejects({ log: { format: 'xml' } }, /log\.format: must be one of json, pretty/);
  rejects({ storgae: './x' }, /^config storgae: unknown setting/);
  rejects([], /must be an object/);
});

test('file errors: missing file, bad syntax, with the file named', (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  assert.throws(() => loadNodeConfig(join(dir, 'none.yaml')), /cannot read/);
  writeFileSync(join(dir, 'bad.json'), '{"aet": ');
  assert.throws(
    () => loadNodeConfig(join(dir, 'bad.json')),
    (err: unknown) => err instanceof ConfigError && /bad\.json: not valid JSON/.test(err.message),
  );
  writeFileSync(join(dir, 'bad.yaml'), 'peers:\n  A: { host: h, port: [1\n');
  assert.throws(() => loadNodeConfig(join(dir, 'bad.yaml')), /bad\.yaml: not valid YAML/);
  writeFileSync(join(dir, 'typed.yaml'), 'limits:\n  maxAssociations: many\n');
  assert.throws(
    () => loadNodeConfig(join(dir, 'typed.yaml')),
    /config limits\.maxAssociations: .*\(in .*typed\.yaml\)/,
  );
});

test('mergeConfig: overrides win field by field; undefined is "not given"; result validated', () => {
  const base = parseNodeConfig({
    aet: 'FILEAET',
    tls: { key: '/k.pem', cert: '/c.pem', requirePeerCertificate: true },
    peers: { A: { host: 'a', port: 1 } },
    limits: { maxAssociations: 5 },
  });
  const merged = mergeConfig(base, {
    aet: undefined,
    port: false,
    tlsPort: 3000,
    tls: { profile: 'bcp195-nd', key: undefined },
    limits: { idleTimeoutSeconds: 10 },
    peers: { B: { host: 'b', port: 2, tls: true } },
  });
  assert.equal(merged.aet, 'FILEAET');
  assert.equal(merged.port, null);
  assert.equal(merged.tlsPort, 3000);
  assert.equal(merged.tls.key, '/k.pem');
  assert.equal(merged.tls.profile, 'bcp195-nd');
  assert.equal(merged.tls.requirePeerCertificate, true);
  assert.deepEqual(merged.limits, {
    ...defaultNodeConfig().limits,
    maxAssociations: 5,
    idleTimeoutSeconds: 10,
  });
  assert.deepEqual(Object.keys(merged.peers), ['A', 'B']);
  assert.throws(() => mergeConfig(base, { tlsPort: 99999 }), /config tlsPort: .*\(in command line\)/);
  assert.throws(() => mergeConfig(base, { duplicates: 'x' as 'keep' }), ConfigError);
});

test('accept: storage SOP classes and transfer syntaxes are validated UIDs', () => {
  const config = parseNodeConfig({
    accept: { sopClasses: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.1 '] },
  });
  assert.deepEqual(config.accept, {
    sopClasses: ['1.2.840.10008.5.1.4.1.1.2'],
    transferSyntaxes: ['1.2.840.10008.1.2.1'],
  });
  assert.deepEqual(parseNodeConfig({}).accept, {});
  rejects({ accept: { sopClasses: ['CT'] } }, /config accept\.sopClasses\[0\]: must be a UID.*got "CT"/);
  rejects(
    { accept: { sopClasses: ['1.2.840.10008.5.1.4.1.2.2.1'] } },
    /config accept\.sopClasses\[0\]: is not a storage SOP class/,
  );
  rejects({ accept: { sopClasses: [] } }, /config accept\.sopClasses: must list at least one UID/);
  rejects(
    { accept: { transferSyntaxes: ['1.2.3.4'] } },
    /config accept\.transferSyntaxes\[0\]: is not a transfer syntax dicomnet knows/,
  );
  rejects({ accept: { modalities: ['CT'] } }, /config accept\.modalities: unknown setting/);
  const merged = mergeConfig(parseNodeConfig({ accept: { sopClasses: ['1.2.840.10008.5.1.4.1.1.7'] } }), {
    accept: { transferSyntaxes: ['1.2.840.10008.1.2'] },
  });
  assert.deepEqual(merged.accept, {
    sopClasses: ['1.2.840.10008.5.1.4.1.1.7'],
    transferSyntaxes: ['1.2.840.10008.1.2'],
  });
});

test('peers: serverName and client credentials, only for TLS peers; key and cert together', () => {
  const config = parseNodeConfig(
    {
      peers: {
        SECURE: {
          host: '10.0.0.1',
          port: 2762,
          tls: true,
          serverName: 'pacs.example.org',
          client: { key: 'k.pem', cert: 'c.pem', passphraseFile: 'pw.txt' },
        },
        BUNDLE: { host: 'b', port: 2762, tls: true, client: { pfx: 'me.p12' } },
      },
    },
    { baseDir: '/etc/dicomnet' },
  );
  assert.deepEqual(config.peers.SECURE?.client, {
    key: '/etc/dicomnet/k.pem',
    cert: '/etc/dicomnet/c.pem',
    passphraseFile: '/etc/dicomnet/pw.txt',
  });
  assert.equal(config.peers.SECURE?.serverName, 'pacs.example.org');
  rejects({ peers: { P: { host: 'h', port: 1, serverName: 'x' } } }, /config peers\.P\.tls: must be true/);
  rejects(
    { peers: { P: { host: 'h', port: 1, tls: true, client: { key: 'k.pem' } } } },
    /config peers\.P\.client\.cert: key and cert must be given together/,
  );
  rejects(
    { peers: { P: { host: 'h', port: 1, tls: true, client: { pfx: 'a', key: 'k', cert: 'c' } } } },
    /config peers\.P\.client\.pfx: give either pfx or key and cert/,
  );
  rejects(
    { peers: { P: { host: 'h', port: 1, tls: true, client: {} } } },
    /config peers\.P\.client: needs key and cert, or pfx/,
  );
  rejects(
    { peers: { P: { host: 'h', port: 1, tls: true, client: { token: 'x' } } } },
    /config peers\.P\.client\.token: unknown setting/,
  );
});

test("peerTlsOptions: plain peers get none; a peer's own credentials replace the node's", (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const pw = join(dir, 'pw.txt');
  writeFileSync(pw, 'secret\nignored\n');
  const node = { key: '/node.key', cert: '/node.crt', ca: ['/ca.crt'], passphrase: 'nodepw' };
  assert.equal(peerTlsOptions({ host: 'h', port: 1, tls: false }, node), undefined);
  assert.deepEqual(peerTlsOptions({ host: 'h', port: 1, tls: true }, undefined), {});
  assert.deepEqual(peerTlsOptions({ host: 'h', port: 1, tls: true }, node), node);
  assert.deepEqual(
    peerTlsOptions(
      {
        host: 'h',
        port: 1,
        tls: true,
        serverName: 'pacs.example.org',
        client: { pfx: '/peer.p12', passphraseFile: pw },
      },
      node,
    ),
    { ca: ['/ca.crt'], pfx: '/peer.p12', passphrase: 'secret', servername: 'pacs.example.org' },
  );
  assert.throws(
    () =>
      peerTlsOptions(
        { host: 'h', port: 1, tls: true, client: { key: 'k', cert: 'c', passphraseFile: join(dir, 'none') } },
        node,
      ),
    (err: unknown) => err instanceof ConfigError && /passphrase file .*none: cannot read/.test(err.message),
  );
});
