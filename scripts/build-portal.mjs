#!/usr/bin/env node
// Builds the customer portal's browser assets into dist/portal/ (run by `npm run build` after tsup,
// whose `clean` would remove them otherwise): one JS bundle and one stylesheet, minified, named by
// content hash, and a manifest.json naming them for the server (src/portal/assets.ts).
// The test run builds the same files through test/support/portal-global-setup.ts, so `npm test`
// on a clean clone (no dist/) serves the page built from the current source.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PORTAL_OUT_DIR = join(root, 'dist', 'portal');

/** Builds into `outdir` (emptied first); answers the manifest and each file's gzipped size. */
export async function buildPortal(outdir = PORTAL_OUT_DIR) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: 'portal-ui/main.ts', style: 'portal-ui/portal.css' },
    outdir,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome111', 'firefox111', 'safari16.4'],
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const files = Object.keys(result.metafile.outputs).map((path) => path.split('/').pop());
  const manifest = {
    script: files.find((name) => name.endsWith('.js')),
    stylesheet: files.find((name) => name.endsWith('.css')),
  };
  writeFileSync(join(outdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const sizes = Object.fromEntries(Object.values(manifest).map((name) => [name, gzipSync(readFileSync(join(outdir, name))).length]));
  return { manifest, sizes };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { sizes } = await buildPortal();
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  for (const [name, size] of Object.entries(sizes)) console.log(`portal: dist/portal/${name} ${size} B gzipped`);
  console.log(`portal: ${total} B gzipped in all`);
}
