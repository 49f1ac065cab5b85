import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Logger } from '../../src/log.js';
import { ianaName, opensslName, suiteParts } from '../../src/tls/cipher-suites.js';
import { TlsError } from '../../src/tls/errors.js';
import {
  checkKeyStrength,
  getSecurityProfile,
  isSuiteAvailable,
  listProfileCiphers,
  resolveProfile,
  SECURITY_PROFILES,
} from '../../src/tls/profiles.js';
import type { SecurityProfileName } from '../../src/tls/types.js';

function captureLogger(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  const log = {
    warn: (_obj: unknown, msg: string) => warnings.push(msg),
    info: noop,
    debug: noop,
    error: noop,
    trace: noop,
    fatal: noop,
  } as unknown as Logger;
  return { log, warnings };
}

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TlsError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('profile definitions', () => {
  test('default is bcp195-rfc8996: ECDHE RSA/ECDSA AES-GCM for TLS 1.2, TLS 1.2-1.3, not retired', () => {
    const { log, warnings } = captureLogger();
    const r = resolveProfile({}, log);
    assert.equal(r.profile.name, 'bcp195-rfc8996');
    assert.equal(r.minVersion, 'TLSv1.2');
    assert.equal(r.maxVersion, 'TLSv1.3');
    assert.deepEqual(r.ciphers.split(':').sort(), [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES256-GCM-SHA384',
    ]);
    assert.equal(
      r.ciphersuites,
      'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
    );
    assert.deepEqual(warnings, []);
  });

  test('suite lists follow DCMTK (DcmTLSCiphersuiteHandler) and DESIGN.md', () => {
    const iana = (name: SecurityProfileName) =>
      SECURITY_PROFILES[name].tls12.map((s) => ianaName(s.openssl)).sort();
    assert.deepEqual(iana('bcp195-nd'), [
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    ]);
    assert.deepEqual(iana('bcp195'), [
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
      'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
      'TLS_RSA_WITH_AES_128_CBC_SHA',
    ]);
    assert.deepEqual(iana('bcp195-ex'), [
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
      'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    ]);
    assert.deepEqual(iana('aes'), ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA']);
    assert.deepEqual(iana('basic'), ['TLS_RSA_WITH_3DES_EDE_CBC_SHA']);
    assert.deepEqual(iana('null'), ['TLS_RSA_WITH_NULL_SHA']);
    assert.equal(SECURITY_PROFILES['bcp195-ex'].maxVersion, 'TLSv1.2');
    assert.deepEqual(SECURITY_PROFILES['bcp195-ex'].tls13, []);
    assert.ok(SECURITY_PROFILES['bcp195-rfc8996-mod'].tls13.includes('TLS_AES_128_CCM_SHA256'));
    for (const name of ['aes', 'basic', 'null'] as const) {
      assert.equal(SECURITY_PROFILES[name].maxVersion, 'TLSv1.2');
      assert.equal(SECURITY_PROFILES[name].securityLevel, 0);
    }
  });

  test('retired profiles log the warning', () => {
    for (const name of ['bcp195-nd', 'bcp195', 'bcp195-ex', 'aes', 'null'] as const) {
      const { log, warnings } = captureLogger();
      resolveProfile({ profile: name }, log);
      assert.deepEqual(warnings, [
        `TLS profile '${name}' is retired (PS3.15 Annex B); use only for legacy peers`,
      ]);
    }
    const { log, warnings } = captureLogger();
    resolveProfile({ profile: 'bcp195-rfc8996-mod' }, log);
    assert.deepEqual(warnings, []);
  });

  test('aes and null force @SECLEVEL=0 (NULL-SHA and TLS < 1.2 need it on OpenSSL 3)', () => {
    assert.equal(resolveProfile({ profile: 'null' }).ciphers, 'NULL-SHA:@SECLEVEL=0');
    assert.match(resolveProfile({ profile: 'aes' }).ciphers, /^AES128-SHA(:DES-CBC3-SHA)?:@SECLEVEL=0$/);
  });

  test(
    'basic: ERR_TLS_PROFILE_UNAVAILABLE names the suite and the OpenSSL version',
    {
      skip: isSuiteAvailable('DES-CBC3-SHA'),
    },
    () => {
      throwsCode(
        () => resolveProfile({ profile: 'basic' }),
        'ERR_TLS_PROFILE_UNAVAILABLE',
        new RegExp(
          `^TLS profile 'basic' needs TLS_RSA_WITH_3DES_EDE_CBC_SHA, which this OpenSSL \\(${process.versions.openssl.replace(/\./g, '\\.')}\\) does not provide$`,
        ),
      );
      assert.ok(!resolveProfile({ profile: 'bcp195' }).ciphers.includes('DES-CBC3'));
    },
  );

  test('unknown profile name is a TlsError', () => {
    throwsCode(
      () => getSecurityProfile('tls-please' as SecurityProfileName),
      'ERR_TLS_PROFILE_VIOLATION',
      /unknown TLS profile/,
    );
  });
});

describe('extra cipher suites', () => {
  test('bcp195-rfc8996 accepts strong extras, in OpenSSL or IANA spelling', () => {
    const r = resolveProfile({
      ciphers: 'ECDHE-RSA-CHACHA20-POLY1305, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
    });
    assert.ok(r.ciphers.includes('ECDHE-RSA-CHACHA20-POLY1305'));
    assert.ok(r.ciphers.includes('ECDHE-ECDSA-CHACHA20-POLY1305'));
  });

  test('bcp195-rfc8996 rejects NULL, SHA-1 MAC, 3DES, RC4, export, anonymous', () => {
    for (const [suite, why] of [
      ['NULL-SHA', /no encryption/],
      ['AES128-SHA', /SHA-1 MAC/],
      ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', /SHA-1 MAC/],
      ['DES-CBC3-SHA', /3DES/],
      ['RC4-SHA', /RC4/],
      ['EXP-RC4-MD5', /export/],
      ['ADH-AES128-GCM-SHA256', /anonymous/],
    ] as const)
      throwsCode(() => resolveProfile({ ciphers: suite }), 'ERR_TLS_PROFILE_VIOLATION', why);
  });

  test('-mod and -ex allow no extras; nd allows encrypted extras but never NULL', () => {
    throwsCode(
      () => resolveProfile({ profile: 'bcp195-rfc8996-mod', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }),
      'ERR_TLS_PROFILE_VIOLATION',
      /allows no extra cipher suites/,
    );
    throwsCode(
      () => resolveProfile({ profile: 'bcp195-ex', ciphers: 'AES256-SHA' }),
      'ERR_TLS_PROFILE_VIOLATION',
    );
    assert.ok(resolveProfile({ profile: 'bcp195-nd', ciphers: 'AES256-SHA' }).ciphers.includes('AES256-SHA'));
    throwsCode(
      () => resolveProfile({ profile: 'bcp195-nd', ciphers: 'NULL-SHA' }),
      'ERR_TLS_PROFILE_VIOLATION',
      /NULL/,
    );
  });

  test('cipher-string keywords and unknown names are ERR_TLS_UNKNOWN_CIPHER', () => {
    throwsCode(() => resolveProfile({ ciphers: 'HIGH:!aNULL' }), 'ERR_TLS_UNKNOWN_CIPHER', /'HIGH'/);
    throwsCode(() => resolveProfile({ ciphers: 'TLS_MADE_UP' }), 'ERR_TLS_UNKNOWN_CIPHER');
  });

  test('a TLS 1.3 extra needs a profile with TLS 1.3', () => {
    const r = resolveProfile({ ciphers: 'TLS_AES_128_CCM_SHA256' });
    assert.ok(r.ciphersuites.includes('TLS_AES_128_CCM_SHA256'));
    throwsCode(
      () => resolveProfile({ profile: 'bcp195-ex', ciphers: 'TLS_AES_128_GCM_SHA256' }),
      'ERR_TLS_PROFILE_VIOLATION',
    );
  });

  test('minVersion narrows within the profile, never beyond it', () => {
    assert.equal(resolveProfile({ minVersion: 'TLSv1.3' }).minVersion, 'TLSv1.3');
    assert.equal(resolveProfile({ profile: 'aes', minVersion: 'TLSv1.2' }).minVersion, 'TLSv1.2');
    throwsCode(
      () => resolveProfile({ profile: 'bcp195-ex', minVersion: 'TLSv1.3' }),
      'ERR_TLS_PROFILE_VIOLATION',
      /at most TLSv1\.2/,
    );
  });
});

describe('key sizes (-mod: RSA >= 2048, EC >= 256)', () => {
  test('checkKeyStrength', () => {
    const mod = getSecurityProfile('bcp195-rfc8996-mod');
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const p224 = generateKeyPairSync('ec', { namedCurve: 'secp224r1' }).privateKey;
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    throwsCode(
      () => checkKeyStrength(mod, rsa1024, 'our key k.pem'),
      'ERR_TLS_KEY_TOO_SMALL',
      /k\.pem has 1024/,
    );
    throwsCode(() => checkKeyStrength(mod, p224, 'peer'), 'ERR_TLS_KEY_TOO_SMALL', /224/);
    checkKeyStrength(mod, rsa2048, 'x');
    checkKeyStrength(mod, p256, 'x');
    checkKeyStrength(getSecurityProfile('bcp195-rfc8996'), rsa1024, 'x');
  });
});

describe('cipher suite names', () => {
  test('OpenSSL <-> IANA', () => {
    assert.equal(ianaName('ECDHE-RSA-AES128-GCM-SHA256'), 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    assert.equal(ianaName('TLS_AES_128_GCM_SHA256'), 'TLS_AES_128_GCM_SHA256');
    assert.equal(opensslName('TLS_RSA_WITH_NULL_SHA'), 'NULL-SHA');
    assert.equal(opensslName('nope'), undefined);
  });

  test('parts of a suite', () => {
    assert.deepEqual(suiteParts('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'), {
      keyExchange: 'ECDHE',
      encryption: 'AES-128-GCM',
      integrity: 'AEAD',
    });
    assert.deepEqual(suiteParts('TLS_RSA_WITH_3DES_EDE_CBC_SHA'), {
      keyExchange: 'RSA',
      encryption: '3DES-EDE-CBC',
      integrity: 'SHA1',
    });
    assert.deepEqual(suiteParts('TLS_RSA_WITH_NULL_SHA'), {
      keyExchange: 'RSA',
      encryption: 'NULL',
      integrity: 'SHA1',
    });
    assert.deepEqual(suiteParts('TLS_DHE_RSA_WITH_AES_256_CBC_SHA256'), {
      keyExchange: 'DHE',
      encryption: 'AES-256-CBC',
      integrity: 'SHA256',
    });
    assert.deepEqual(suiteParts('TLS_CHACHA20_POLY1305_SHA256'), {
      keyExchange: '',
      encryption: 'CHACHA20-POLY1305',
      integrity: 'AEAD',
    });
    assert.equal(suiteParts('TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8').encryption, 'AES-128-CCM-8');
  });

  test('listProfileCiphers marks what this OpenSSL lacks', () => {
    const list = listProfileCiphers('bcp195-rfc8996-mod');
    assert.equal(list.unavailableReason, null);
    const camellia = list.suites.find((s) => s.iana === 'TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256');
    assert.equal(camellia?.need, 'optional');
    assert.ok(list.suites.some((s) => s.protocol === 'TLSv1.3' && s.iana === 'TLS_AES_128_CCM_8_SHA256'));
    if (!isSuiteAvailable('DES-CBC3-SHA')) {
      const basic = listProfileCiphers('basic');
      assert.match(basic.unavailableReason ?? '', /needs TLS_RSA_WITH_3DES_EDE_CBC_SHA/);
      assert.equal(basic.suites[0]?.available, false);
    }
  });
});
