#!/usr/bin/env node
// Checks the package as a user receives it, not as the repo sees it:
//   1. build, then publint and @arethetypeswrong/cli (node16 CJS + ESM and bundler resolutions);
//   2. `npm pack`, install the tarball into a scratch app in a temp dir;
//   3. with no peer dependency installed, `hookrelay` itself must load (drivers and frameworks are
//      optional peers), in ESM and in CJS;
//   4. with the peers linked in from this repo's node_modules, every subpath in `exports` must load
//      in ESM and in CJS, exposing the same names both ways;
//   5. a ten-line program creates an endpoint on memoryStorage (and emits, once emit exists), and a
//      SQLite smoke test delivers a signed event to a loopback receiver that verifies it;
//   6. on Node 22, 24 and 26 (npm's `node@N`, kept in .lines/), a fresh app installs the tarball
//      with the current peer majors (kysely 0.29, better-sqlite3 13), peers held strictly (no
//      --legacy-peer-deps), and runs the same smoke test in ESM and in CJS.
// Subpaths are read from package.json `exports`, so the check grows with the package.
// Usage: npm run check:package [-- --skip-build] [-- --keep] [-- --skip-lines]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CURRENT_PEERS, nodeLine } from './node-line.mjs';
import { importSpecifier } from './typedoc-module-names.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quietNpm = ['--no-audit', '--no-fund', '--loglevel=error'];

function step(title) {
  console.log(`\n--- check:package: ${title}`);
}

function run(command, commandArgs, options = {}) {
  return execFileSync(command, commandArgs, { cwd: root, stdio: 'inherit', ...options });
}

function capture(command, commandArgs, options = {}) {
  return execFileSync(command, commandArgs, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
}

/** The subpaths a user can import: every `exports` key that is not a file like ./package.json. */
function exportedSubpaths() {
  const exportsField = pkg.exports ?? { '.': pkg.main };
  return Object.keys(exportsField)
    .filter((key) => !/\.[a-z]+$/i.test(key) && !key.includes('*'))
    .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));
}

if (!args.has('--skip-build')) {
  step('build');
  run(npm, ['run', '--silent', 'build']);
}

step('every built entry point is exported');
// tsup builds an entry for each adapter whose source exists; one missing from `exports` would be
// built, shipped and unreachable. Shared chunks (chunk-*.js) are not entry points.
const exportedKeys = new Set(Object.keys(pkg.exports ?? {}));
for (const file of readdirSync(join(root, 'dist'))) {
  const entry = /^([a-z0-9-]+)\.js$/.exec(file)?.[1];
  if (!entry || entry.startsWith('chunk-')) continue;
  const key = entry === 'index' ? '.' : `./${entry}`;
  if (!exportedKeys.has(key)) throw new Error(`dist/${file} is built but package.json exports has no "${key}"`);
  console.log(`ok dist/${file} is exported as "${key}"`);
}

step('each class is defined once per format');
// Subpaths share code through chunks. A class copied into two entry files would exist twice at
// run time, and `instanceof WebhookError` would fail for errors thrown by an adapter.
for (const extension of ['.js', '.cjs']) {
  const definedIn = new Map();
  for (const file of readdirSync(join(root, 'dist')).filter((f) => f.endsWith(extension))) {
    const source = readFileSync(join(root, 'dist', file), 'utf8');
    for (const match of source.matchAll(/(?:^|[\s;])(?:var|let|const) ([A-Z][A-Za-z0-9_$]*) = class\b|^class ([A-Z][A-Za-z0-9_$]*)\b/gm)) {
      const name = match[1] ?? match[2];
      const files = definedIn.get(name) ?? [];
      files.push(file);
      definedIn.set(name, files);
    }
  }
  const duplicated = [...definedIn].filter(([, files]) => files.length > 1);
  if (duplicated.length) throw new Error(`classes bundled more than once (${extension}): ${duplicated.map(([n, f]) => `${n} in ${f.join(', ')}`).join('; ')}`);
  console.log(`ok ${extension}: ${definedIn.size} classes, each defined once`);
}

step('the API reference covers every exported subpath');
{
  const typedoc = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8'));
  const documented = new Set(typedoc.entryPoints.map((file) => importSpecifier(file.replace(/\.ts$/, ''))));
  const missing = exportedSubpaths().filter((spec) => !documented.has(spec));
  if (missing.length) throw new Error(`typedoc.json entryPoints lack ${missing.join(', ')}`);
  console.log(`ok typedoc.json documents ${[...documented].join(', ')}`);
}

step('publint');
run(join(root, 'node_modules/.bin/publint'), ['--strict']);

step('are the types wrong (node16 from CJS and ESM, bundler)');
// The node16 profile skips node10 resolution, which cannot see subpath exports and which
// TypeScript users of this Node >= 20 library do not use.
run(join(root, 'node_modules/.bin/attw'), ['--pack', '.', '--profile', 'node16', '--format', 'table-flipped']);

/** Node lines the consumer check installs the current peer majors on (all of them need Node >= 22). */
const CONSUMER_LINES = [22, 24, 26];

/**
 * smoke.mjs and smoke.cjs in `app`: SQLite storage, a receiver on 127.0.0.1, create an endpoint,
 * emit, deliver, and verify the signature of what arrived as a customer would.
 */
function writeSmokeTest(app) {
  const body = `
const received = [];
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(204).end();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const storage = sqliteStorage({ filename: join(process.cwd(), 'smoke-' + FORMAT + '.db') });
const hooks = new WebhookService({ storage, eventTypes: ['order.paid'], delivery: { allowHttp: true, allowPrivateNetworks: true } });
try {
  await hooks.migrate();
  const { endpoint, secret } = await hooks.create('org_1', { url: 'http://127.0.0.1:' + server.address().port + '/hook', events: ['order.paid'] });
  await hooks.emit('org_1', { type: 'order.paid', data: { orderId: 'o_1' } });
  await hooks.deliverDue();
  if (received.length !== 1) throw new Error('the receiver got ' + received.length + ' requests, expected 1');
  const event = verifyWebhook({ payload: received[0].body, headers: received[0].headers, secret });
  if (event.type !== 'order.paid' || event.data.orderId !== 'o_1') throw new Error('verified the wrong event: ' + JSON.stringify(event));
  const { data: deliveries } = await hooks.listDeliveries('org_1', { endpointId: endpoint.id });
  if (deliveries.length !== 1 || deliveries[0].status !== 'succeeded') throw new Error('delivery recorded as ' + JSON.stringify(deliveries));
  console.log('ok ' + FORMAT + ' smoke test on ' + process.version + ': ' + endpoint.id + ' got ' + event.id + ', signature verified');
} finally {
  await hooks.stop();
  await storage.close();
  server.close();
}`;
  writeFileSync(
    join(app, 'smoke.mjs'),
    `import { createServer } from 'node:http';\nimport { join } from 'node:path';\nimport { WebhookService, verifyWebhook } from '${pkg.name}';\nimport { sqliteStorage } from '${pkg.name}/sqlite';\nconst FORMAT = 'esm';\n${body}\n`,
  );
  // CJS has no top-level await: the same test inside an async function.
  writeFileSync(
    join(app, 'smoke.cjs'),
    `const { createServer } = require('node:http');\nconst { join } = require('node:path');\nconst { WebhookService, verifyWebhook } = require('${pkg.name}');\nconst { sqliteStorage } = require('${pkg.name}/sqlite');\nconst FORMAT = 'cjs';\n(async () => {${body}\n})().catch((error) => { console.error(error); process.exit(1); });\n`,
  );
}

const scratch = mkdtempSync(join(tmpdir(), 'hookrelay-pack-'));
try {
  step(`npm pack into ${scratch}`);
  const packed = JSON.parse(capture(npm, ['pack', '--json', '--pack-destination', scratch, ...quietNpm]));
  const tarball = join(scratch, packed[0].filename);
  const shipped = packed[0].files.map((f) => f.path);
  for (const unwanted of shipped.filter((p) => /^(src|test|adapters|examples|bench|scripts)\//.test(p))) {
    throw new Error(`the tarball ships a source file it should not: ${unwanted}`);
  }
  console.log(`${packed[0].filename}: ${shipped.length} files, ${(packed[0].size / 1024).toFixed(1)} KiB packed`);

  const app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, version: '0.0.0' }));
  step('install the tarball into a scratch app (no peers)');
  // Peers are optional, so npm installs none: the app now looks like a user who only wants the core.
  run(npm, ['install', tarball, '--prefer-offline', ...quietNpm], { cwd: app });

  const subpaths = exportedSubpaths();
  const loadEsm = (spec) => `const m = await import(${JSON.stringify(spec)}); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort()));`;
  const loadCjs = (spec) => `const m = require(${JSON.stringify(spec)}); console.log(JSON.stringify(Object.keys(m).sort()));`;
  const names = (kind, spec) => {
    const file = join(app, kind === 'esm' ? 'load.mjs' : 'load.cjs');
    writeFileSync(file, kind === 'esm' ? loadEsm(spec) : loadCjs(spec));
    return JSON.parse(capture(process.execPath, [file], { cwd: app }));
  };

  step(`${pkg.name} loads without any optional peer installed`);
  for (const kind of ['esm', 'cjs']) {
    const exported = names(kind, pkg.name);
    if (exported.length === 0) throw new Error(`${pkg.name} (${kind}) exports nothing`);
    console.log(`ok ${kind} ${pkg.name}: ${exported.length} exports`);
  }

  step('link the peer dependencies from this repo');
  for (const peer of Object.keys(pkg.peerDependencies ?? {})) {
    const source = join(root, 'node_modules', peer);
    if (!existsSync(source)) throw new Error(`peer ${peer} is not installed in this repo; run npm install`);
    const target = join(app, 'node_modules', peer);
    mkdirSync(dirname(target), { recursive: true });
    if (!existsSync(target)) symlinkSync(source, target, 'dir');
    console.log(`linked ${peer}`);
  }

  step(`every exported subpath (${subpaths.length}) loads in ESM and in CJS with the same names`);
  for (const spec of subpaths) {
    const esm = names('esm', spec);
    const cjs = names('cjs', spec);
    if (esm.length === 0) throw new Error(`${spec} exports nothing`);
    const onlyEsm = esm.filter((n) => !cjs.includes(n));
    const onlyCjs = cjs.filter((n) => !esm.includes(n));
    if (onlyEsm.length || onlyCjs.length) {
      throw new Error(`${spec}: ESM and CJS differ (only ESM: ${onlyEsm.join(', ') || '-'}; only CJS: ${onlyCjs.join(', ') || '-'})`);
    }
    console.log(`ok ${spec}: ${esm.join(', ')}`);
  }

  step('a ten-line program, in ESM and in CJS');
  const program = (importLine) => `${importLine}
const hooks = new WebhookService({ storage: memoryStorage(), eventTypes: ['order.paid'] });
await hooks.migrate();
const { endpoint, secret } = await hooks.create('org_1', { url: 'https://hooks.example.com/in', events: ['order.paid'] });
if (!endpoint.id.startsWith('wh_') || !secret) throw new Error('create returned ' + JSON.stringify(endpoint));
if (typeof hooks.emit === 'function') {
  const { deliveries } = await hooks.emit('org_1', { type: 'order.paid', data: { orderId: 'o_1' } });
  if (deliveries.length !== 1) throw new Error('emit fanned out to ' + deliveries.length + ' endpoints');
}
console.log('ok ten-line program: endpoint ' + endpoint.id + (typeof hooks.emit === 'function' ? ', emitted' : ', emit not built yet'));`;
  writeFileSync(join(app, 'program.mjs'), program(`import { WebhookService, memoryStorage } from '${pkg.name}';`));
  // CJS has no top-level await: the same program inside an async function.
  writeFileSync(
    join(app, 'program.cjs'),
    `const { WebhookService, memoryStorage } = require('${pkg.name}');\n(async () => {\n${program('')}\n})().catch((error) => { console.error(error); process.exit(1); });\n`,
  );
  run(process.execPath, ['program.mjs'], { cwd: app });
  run(process.execPath, ['program.cjs'], { cwd: app });

  step(`SQLite smoke test on ${process.version} with this repo's peers, in ESM and in CJS`);
  writeSmokeTest(app);
  run(process.execPath, ['smoke.mjs'], { cwd: app });
  run(process.execPath, ['smoke.cjs'], { cwd: app });

  if (!args.has('--skip-lines')) {
    for (const major of CONSUMER_LINES) {
      step(`Node ${major}: a fresh app installs the tarball with ${CURRENT_PEERS.join(' ')}`);
      const line = nodeLine(major);
      const lineApp = join(scratch, `app-node-${major}`);
      mkdirSync(lineApp);
      writeFileSync(join(lineApp, 'package.json'), JSON.stringify({ name: `scratch-app-node-${major}`, private: true, version: '0.0.0' }));
      // Peers held strictly: a range that leaves out a current major fails the install here.
      const env = { ...line.env, npm_config_legacy_peer_deps: 'false', npm_config_strict_peer_deps: 'true' };
      run(npm, ['install', tarball, ...CURRENT_PEERS, '--prefer-offline', ...quietNpm], { cwd: lineApp, env });
      // `npm ls` fails on any missing or invalid dependency, peers included.
      run(npm, ['ls', '--all', '--loglevel=error'], { cwd: lineApp, env, stdio: ['ignore', 'ignore', 'inherit'] });
      writeSmokeTest(lineApp);
      run(line.node, ['smoke.mjs'], { cwd: lineApp, env });
      run(line.node, ['smoke.cjs'], { cwd: lineApp, env });
    }
  }

  step('ok');
} finally {
  if (args.has('--keep')) console.log(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
