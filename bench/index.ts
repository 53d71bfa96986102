/**
 * `npm run bench [-- --quick] [--only signing,http]`: runs every benchmark under bench/,
 * prints one markdown table with each figure beside its same-run baseline, and writes
 * bench/results.json (bench/results.only.json with --only, so a partial run never replaces the
 * whole report). Absolute numbers depend on the machine; the ratios are what to compare.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchOptions, BenchRow } from './bench-row.js';

interface Suite {
  group: string;
  file: string;
  exportName: string;
}

const SUITES: Suite[] = [
  { group: 'signing', file: 'signing/index.ts', exportName: 'runSigningBench' },
  { group: 'delivery', file: 'delivery/index.ts', exportName: 'runDeliveryBench' },
  { group: 'storage', file: 'storage/index.ts', exportName: 'runStorageBench' },
  { group: 'http', file: 'http/index.ts', exportName: 'runHttpBench' },
];

const here = fileURLToPath(new URL('.', import.meta.url));

function machineFacts(): Record<string, string> {
  return {
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'unknown'}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    postgres: postgresVersion(),
  };
}

/** The newest installed server's version (Debian layout: /usr/lib/postgresql/<major>/bin/postgres). */
function postgresVersion(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const bin = `${root}/${major}/bin/postgres`;
    if (!existsSync(bin)) continue;
    try {
      return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      // Not runnable here: try the next one.
    }
  }
  return 'not installed';
}

function format(n: number | null, unit?: string): string {
  if (n === null || !Number.isFinite(n)) return '–';
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  const text = n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${text} ${unit}` : text;
}

export function renderTable(rows: BenchRow[]): string {
  const lines = [
    '| group | benchmark | hookrelay | baseline | baseline figure | ratio | target |',
    '| --- | --- | ---: | --- | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const target = r.target ? `${r.target} ${r.met === undefined ? '' : r.met ? '✅' : '❌'}`.trim() : '';
    lines.push(
      `| ${r.group} | ${r.name} | ${format(r.ours, r.unit)} | ${r.baselineName ?? ''} | ${format(r.baseline, r.baseline === null ? undefined : r.unit)} | ${r.ratio === null ? '' : `${format(r.ratio)}×`} | ${target} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyIndex = args.findIndex((a) => a === '--only' || a.startsWith('--only='));
  const onlyArg = onlyIndex < 0 ? undefined : args[onlyIndex]!.startsWith('--only=') ? args[onlyIndex]!.slice('--only='.length) : args[onlyIndex + 1];
  const only = onlyArg ? new Set(onlyArg.split(',')) : null;
  const facts = machineFacts();
  process.stderr.write(`hookrelay benchmarks (${quick ? 'quick' : 'full'})\n`);
  for (const [k, v] of Object.entries(facts)) process.stderr.write(`  ${k}: ${v}\n`);

  const rows: BenchRow[] = [];
  const failures: { group: string; error: string }[] = [];
  const groupSeconds: Record<string, number> = {};
  // On a terminal the progress line rewrites itself; in a log each update is its own line.
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  for (const suite of SUITES) {
    if (only && !only.has(suite.group)) continue;
    const path = `${here}${suite.file}`;
    if (!existsSync(path)) continue;
    const t0 = performance.now();
    const progress = (line: string) => {
      const elapsed = ((performance.now() - started) / 1000).toFixed(0);
      const text = `[${elapsed}s] ${suite.group}: ${line.replace(/\n$/, '')}`;
      process.stderr.write(tty ? `\r\x1b[K${text}${line.endsWith('\n') ? '\n' : ''}` : `${text}\n`);
    };
    progress('starting');
    try {
      const mod = (await import(pathToFileURL(path).href)) as Record<string, (o: BenchOptions) => Promise<BenchRow[]>>;
      const run = mod[suite.exportName];
      if (typeof run !== 'function') throw new Error(`${suite.file} does not export ${suite.exportName}`);
      rows.push(...(await run({ quick, progress })));
      groupSeconds[suite.group] = Math.round((performance.now() - t0) / 100) / 10;
      progress(`done in ${groupSeconds[suite.group]}s\n`);
    } catch (error) {
      groupSeconds[suite.group] = Math.round((performance.now() - t0) / 100) / 10;
      failures.push({ group: suite.group, error: error instanceof Error ? error.message : String(error) });
      progress(`FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }

  const table = renderTable(rows);
  process.stdout.write(`\n${table}\n\n`);
  const seconds = Math.round((performance.now() - started) / 1000);
  process.stdout.write(`Machine: ${facts.cpus}, ${facts.memory}, Node ${facts.node}, ${facts.postgres}. ${quick ? 'Quick' : 'Full'} run: ${seconds} s.\n`);
  const out = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: facts,
    seconds,
    groupSeconds,
    rows,
    failures,
  };
  // results.json is the report of one whole run; a partial run must not replace it with a few groups.
  const file = only ? 'results.only.json' : 'results.json';
  writeFileSync(`${here}${file}`, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`Written to bench/${file}.\n`);
  if (failures.length) {
    process.stderr.write(`${failures.length} benchmark group(s) failed: ${failures.map((f) => f.group).join(', ')}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
