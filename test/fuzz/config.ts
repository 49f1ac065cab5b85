/**
 * Fuzz targets of the node configuration file (src/node/config.ts): JSON and
 * YAML text, structure-aware (valid configurations, then wrong types, unknown
 * keys, out-of-range numbers, text mutations) and raw.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { loadNodeConfig } from '../../src/node/config.js';
import { ConfigError } from '../../src/node/errors.js';
import { applyMutations, expectTyped, type FuzzTarget, noteInput, target } from './harness.js';

const aetName = fc.oneof(
  fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/),
  fc.constantFrom('constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', ' PADDED ', ''),
  fc.string({ maxLength: 18 }),
);

const scalar = fc.oneof(
  fc.integer({ min: -1, max: 70000 }),
  fc.string({ maxLength: 10 }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('11112', ' 104 ', '0x10', '1e3', 'bcp195-nd', 'json', 'keep'),
);
const hostile = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 2 }),
);

/** Plausible configurations with every field sometimes replaced by a hostile value. */
const configObject = fc.record(
  {
    aet: fc.oneof(aetName, hostile),
    port: fc.oneof(fc.integer({ min: 1, max: 65535 }), hostile),
    tlsPort: fc.oneof(fc.integer({ min: 1, max: 65535 }), hostile),
    host: fc.oneof(fc.constant('127.0.0.1'), hostile),
    storage: fc.oneof(fc.constant('./data'), hostile),
    duplicates: fc.oneof(fc.constantFrom('keep', 'replace', 'reject'), hostile),
    acceptAnyCalledAet: fc.oneof(fc.boolean(), hostile),
    tls: fc.oneof(
      fc.record(
        {
          key: fc.oneof(fc.constant('k.pem'), hostile),
          cert: fc.oneof(fc.constant('c.pem'), hostile),
          pfx: hostile,
          ca: fc.oneof(fc.array(fc.constant('ca.pem'), { maxLength: 2 }), hostile),
          crl: hostile,
          requirePeerCertificate: fc.oneof(fc.boolean(), hostile),
          profile: fc.oneof(fc.constantFrom('bcp195-rfc8996', 'bcp195-nd', 'basic'), hostile),
          passphraseFile: hostile,
        },
        { requiredKeys: [] },
      ),
      hostile,
    ),
    peers: fc.oneof(
      fc.dictionary(
        aetName,
        fc.oneof(
          fc.record(
            {
              host: fc.oneof(fc.constant('localhost'), hostile),
              port: fc.oneof(fc.integer({ min: 1, max: 65535 }), hostile),
              tls: fc.oneof(fc.boolean(), hostile),
              identity: fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }), hostile),
            },
            { requiredKeys: ['host', 'port'] },
          ),
          hostile,
        ),
        { maxKeys: 3 },
      ),
      hostile,
    ),
    limits: fc.oneof(
      fc.record(
        {
          maxAssociations: fc.oneof(fc.integer({ min: 0, max: 200000 }), hostile),
          maxPduLength: fc.oneof(fc.integer({ min: 0, max: 2 ** 33 }), hostile),
          idleTimeoutSeconds: fc.oneof(fc.integer({ min: -1, max: 90000 }), hostile),
        },
        { requiredKeys: [] },
      ),
      hostile,
    ),
    worklistDir: hostile,
    log: fc.oneof(
      fc.record({ level: fc.constantFrom('info', 'debug', 'loud'), format: hostile }, { requiredKeys: [] }),
      hostile,
    ),
    unknownSetting: hostile,
  },
  { requiredKeys: [] },
);

const configText = fc
  .tuple(fc.oneof(configObject, fc.jsonValue()), fc.constantFrom('.json', '.yaml', '.conf'))
  .map(([obj, ext]) => ({ text: ext === '.yaml' ? toYaml(obj) : JSON.stringify(obj), ext }));

const YAML_TRAPS = [
  'a: &a [*a]\n',
  'x: &x\n  - *x\n',
  'aet: !!binary aGVsbG8=\n',
  'aet: !!js/function "() => 1"\n',
  '? [complex]\n: key\n',
  'port: 0o777\n',
  'port: 1_000\n',
  '<<: {aet: X}\n',
  'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c]\n',
  '%YAML 9.9\n---\naet: X\n',
  '---\naet: X\n---\naet: Y\n',
  '\uFEFF{"aet": "X"}',
  '{"aet": "X", "aet": "Y"}',
];

const anyConfigText = fc.oneof(
  { arbitrary: configText, weight: 4 },
  {
    arbitrary: fc
      .tuple(
        configText,
        fc.array(fc.record({ at: fc.nat(), bit: fc.nat(7) }), { minLength: 1, maxLength: 3 }),
      )
      .map(([{ text, ext }, flips]) => ({
        text: applyMutations(
          Buffer.from(text, 'utf8'),
          flips.map((f: { at: number; bit: number }) => ({ op: 'flip' as const, at: f.at, bit: f.bit })),
        ).toString('utf8'),
        ext,
      })),
    weight: 2,
  },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...YAML_TRAPS), fc.constantFrom('.yaml', '.conf'))
      .map(([text, ext]) => ({ text, ext })),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.string({ maxLength: 60 }), fc.constantFrom('.json', '.yaml', '.conf'))
      .map(([text, ext]) => ({ text, ext })),
    weight: 1,
  },
);

let dir: string | undefined;
function scratchFile(text: string, ext: string): string {
  if (!dir) {
    const made = mkdtempSync(join(tmpdir(), 'dicomnet-fuzz-config-'));
    dir = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  const path = join(dir, `node${ext}`);
  writeFileSync(path, text);
  return path;
}

export const configTargets: FuzzTarget[] = [
  target('config', 'JSON and YAML config files load or fail with ConfigError', 800, () =>
    fc.property(anyConfigText, ({ text, ext }) => {
      noteInput(text);
      const config = expectTyped([ConfigError], () => loadNodeConfig(scratchFile(text, ext)));
      if (!config) return;
      // peers are looked up by calling AE title: only configured names may answer
      for (const probe of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'host']) {
        if (!Object.prototype.hasOwnProperty.call(config.peers, probe))
          assert.equal(config.peers[probe], undefined, `peers[${probe}] answers without being configured`);
      }
      assert.ok(config.aet.length >= 1 && config.aet.length <= 16);
    }),
  ),
];
