import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { auditOptionsFromConfig } from '../../src/node/audit.js';
import { defaultNodeConfig, loadNodeConfig, mergeConfig, parseNodeConfig } from '../../src/node/config.js';
import { ConfigError } from '../../src/node/errors.js';

describe('audit configuration', () => {
  test('defaults: a file in the storage directory, batched fdatasync, no collector', () => {
    const config = defaultNodeConfig();
    assert.deepEqual(config.audit, { fsync: 'batch' });
    const options = auditOptionsFromConfig(config);
    assert.equal(options.file, join(resolve('./data/storage'), 'audit.log'));
    assert.equal(options.fsync, 'batch');
    assert.equal(options.syslog, undefined);
  });

  test('a config file section: paths resolved against the file, port 6514 by default, unknown keys refused', () => {
    const config = parseNodeConfig(
      { audit: { file: 'logs/audit.log', fsync: 'none', syslog: { host: 'arr.example.org', ca: 'ca.pem' } } },
      { baseDir: '/etc/dicomnet' },
    );
    assert.equal(config.audit.file, '/etc/dicomnet/logs/audit.log');
    assert.equal(config.audit.fsync, 'none');
    assert.deepEqual(config.audit.syslog, {
      host: 'arr.example.org',
      port: 6514,
      ca: ['/etc/dicomnet/ca.pem'],
      queueLimit: 1000,
      bom: false,
    });
    assert.throws(() => parseNodeConfig({ audit: { syslog: { host: 'x', cert: 'c.pem' } } }), /key and cert/);
    assert.throws(() => parseNodeConfig({ audit: { sylog: {} } }), /config audit\.sylog: unknown setting/);
    assert.throws(() => parseNodeConfig({ audit: { fsync: 'sometimes' } }), ConfigError);
    assert.equal(parseNodeConfig({ audit: { file: false } }).audit.file, false);
  });

  test('command-line overrides: --audit-file off, --audit-syslog host:port keep the configured CA', () => {
    const base = parseNodeConfig({
      audit: { syslog: { host: 'old', port: 7000, ca: '/ca.pem', queueLimit: 5 } },
    });
    const merged = mergeConfig(base, { audit: { file: false, syslog: { host: 'new', port: 6515 } } });
    assert.equal(merged.audit.file, false);
    assert.deepEqual(merged.audit.syslog, {
      host: 'new',
      port: 6515,
      ca: ['/ca.pem'],
      queueLimit: 5,
      bom: false,
    });
    assert.equal(auditOptionsFromConfig(merged).file, undefined);
  });

  test('the collector CA falls back to tls.ca, the client pair to the node client credentials; no CA at all is an error', () => {
    const config = parseNodeConfig({
      tls: { ca: '/pki/ca.crt', key: '/pki/server.key', cert: '/pki/server.crt' },
      audit: { syslog: { host: 'arr' } },
    });
    const own = auditOptionsFromConfig(config).syslog;
    assert.deepEqual(own?.ca, ['/pki/ca.crt']);
    assert.equal(own?.cert, '/pki/server.crt');
    const client = auditOptionsFromConfig(config, { key: '/pki/client.key', cert: '/pki/client.crt' }).syslog;
    assert.equal(client?.cert, '/pki/client.crt');
    assert.equal(client?.key, '/pki/client.key');
    assert.throws(
      () => auditOptionsFromConfig(parseNodeConfig({ audit: { syslog: { host: 'arr' } } })),
      /audit\.syslog\.ca: the collector certificate must be verified/,
    );
  });

  test('the example configuration files carry the audit section', () => {
    // compiled to dist/test/audit: the repository root is three levels up
    const example = fileURLToPath(new URL('../../../examples/dicomnet.config.yaml', import.meta.url));
    const config = loadNodeConfig(example);
    assert.equal(config.audit.fsync, 'batch');
    assert.ok(config.audit.file && config.audit.file.endsWith(join('data', 'storage', 'audit.log')));
  });
});
