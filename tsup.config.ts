import { existsSync } from 'node:fs';
import { defineConfig } from 'tsup';

// Every subpath the package can export; only those whose source exists are built,
// so the exports map in package.json never points at a missing file.
const candidates: Record<string, string> = {
  index: 'src/index.ts',
  testing: 'src/testing/index.ts',
  sqlite: 'adapters/sqlite/index.ts',
  postgres: 'adapters/postgres/index.ts',
  express: 'adapters/express/index.ts',
  fastify: 'adapters/fastify/index.ts',
};

const entry = Object.fromEntries(Object.entries(candidates).filter(([, file]) => existsSync(file)));

export default defineConfig({
  entry,
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
  // Drivers and frameworks are optional peers: never bundle them.
  external: ['better-sqlite3', 'pg', 'kysely', 'express', 'fastify'],
});
