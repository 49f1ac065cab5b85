import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { before, describe, test } from 'node:test';
import { checkoutRoot } from '../helpers/cli.js';
import { freePort, run } from '../helpers/dcmtk.js';

/** Dependencies of `serve` only (optionalDependencies): a pure-JS install has none of them. */
const NATIVE = new Set(['better-sqlite3', 'bindings', 'prebuild-install', 'file-uri-to-path']);

describe('the packed package as a library user installs it', () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-pack-'));
  const app = join(work, 'app');
  let files: string[] = [];

  before(async () => {
    // the tarball of the current build (the build is not re-run: --ignore-scripts)
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: checkoutRoot,
      timeoutMs: 120_000,
    });
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(info);
    files = info.files.map((f) => f.path);
    // "installed" into a temp app: the tarball unpacked as node_modules/dicomnet, its
    // dependencies from this checkout except the optional native ones (as --omit=optional leaves them)
    const modules = join(app, 'node_modules');
    mkdirSync(join(modules, 'dicomnet'), { recursive: true });
    const untar = await run('tar', [
      '-xzf',
      join(work, info.filename),
      '-C',
      join(modules, 'dicomnet'),
      '--strip-components=1',
    ]);
    assert.equal(untar.code, 0, untar.stderr);
    for (const name of readdirSync(join(checkoutRoot, 'node_modules'))) {
      if (NATIVE.has(name) || name.startsWith('.')) continue;
      symlinkSync(join(checkoutRoot, 'node_modules', name), join(modules, name));
    }
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }),
    );
  });

  test('holds LICENSE, README, SECURITY.md, docs/ and examples/, the build with its sources, and no dev scripts, tests or benchmarks', () => {
    for (const f of [
      'LICENSE',
      'README.md',
      'SECURITY.md',
      'docs/limits.md',
      'examples/dicomnet.config.yaml',
      'examples/dicomnet.config.json',
      'bin/dicomnet.js',
      'bin/v8-flags.js',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/top-help.txt',
    ])
      assert.ok(files.includes(f), `${f} is in the package`);
    for (const f of files) assert.doesNotMatch(f, /^(scripts|test|bench|dist\/test|dist\/bench|\.ci)\//, f);
    // every source map ships with the sources it names
    const maps = files.filter((f) => f.endsWith('.map'));
    assert.ok(maps.length > 0);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(join(checkoutRoot, m), 'utf8')) as { sources: string[] };
      for (const s of map.sources) {
        const source = posix.normalize(posix.join(posix.dirname(m), s));
        assert.ok(files.includes(source), `${m} names ${source}, which is in the package`);
      }
    }
  });

  test('without the optional better-sqlite3 the library works (connect, Dataset) and serve names what to install (exit 2)', async () => {
    const script = join(app, 'use.mjs');
    writeFileSync(
      script,
      [
        "import { connect, DicomServer, Dataset, Status } from 'dicomnet';",
        "const server = new DicomServer({ aet: 'APP', handlers: { echo: () => Status.Success } });",
        "const { port } = await server.listen({ port: 0, host: '127.0.0.1' });",
        "const assoc = await connect({ host: '127.0.0.1', port, calledAet: 'APP' });",
        'await assoc.echo();',
        'await assoc.release();',
        'await server.close();',
        "console.log('ok', new Dataset().set('PatientID', 'X').getString('PatientID'));",
      ].join('\n'),
    );
    const lib = await run(process.execPath, [script], { cwd: app, timeoutMs: 60_000 });
    assert.equal(lib.code, 0, lib.stderr);
    assert.equal(lib.stdout.trim(), 'ok X');

    const bin = join(app, 'node_modules', 'dicomnet', 'bin', 'dicomnet.js');
    const serve = await run(
      process.execPath,
      [
        ...[bin, 'serve', '--port', String(await freePort()), '--tls-port', 'off'],
        ...['--host', '127.0.0.1', '--storage', join(work, 'storage')],
      ],
      { cwd: app, timeoutMs: 60_000 },
    );
    assert.equal(serve.code, 2, serve.stderr);
    assert.match(serve.stderr, /^dicomnet: .*better-sqlite3.*npm install better-sqlite3/m);
  });
});
