#!/usr/bin/env node
// Other Node lines for CI and the consumer check: the npm registry's `node@<major>` package,
// installed into .lines/node-<major>/ of this checkout (ignored by git), never globally, and
// reused while it is there. The package ships the headers too, so native addons (better-sqlite3)
// build from source for that line: nothing but the npm registry is reachable, so prebuilt binaries
// cannot be downloaded.
// Usage: node scripts/node-line.mjs <major>   prints the folder holding that line's `node`;
//        node scripts/node-line.mjs peers     prints CURRENT_PEERS, for `npm install`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The current majors of the peers that need Node >= 22 (the lockfile keeps the Node 20 lines):
 * CI's second test line and the consumer check install these.
 */
export const CURRENT_PEERS = ['kysely@^0.29.0', 'better-sqlite3@^13.0.0'];

/** Where the lines live; .gitignore lists it. */
export const LINES_DIR = join(root, '.lines');

/**
 * The Node `major` line, installed on first use. `env` runs a command on it: its `node` first on
 * PATH (npm too then runs on it), and `npm_config_nodedir` pointing node-gyp at its headers.
 */
export function nodeLine(major) {
  const prefix = join(LINES_DIR, `node-${major}`);
  const home = join(prefix, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`);
  const bin = join(home, 'bin');
  if (!existsSync(join(bin, 'node'))) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), JSON.stringify({ name: `node-line-${major}`, private: true }));
    execFileSync(npm, ['install', `node@${major}`, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: prefix, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const version = execFileSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith(`v${major}.`)) throw new Error(`${bin}/node is ${version}, not Node ${major}`);
  const env = {
    ...process.env,
    PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
    npm_config_nodedir: home,
  };
  return { major, version, bin, node: join(bin, 'node'), env };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argument = process.argv[2] ?? '';
  if (argument === 'peers') console.log(CURRENT_PEERS.join(' '));
  else if (/^\d+$/.test(argument)) console.log(nodeLine(Number(argument)).bin);
  else {
    console.error('usage: node scripts/node-line.mjs <major> | peers');
    process.exit(2);
  }
}
