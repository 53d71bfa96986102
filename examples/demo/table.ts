/** A plain box-drawn table: numbers right-aligned, text left-aligned, no index column. */
export function renderTable(rows: readonly Record<string, string | number>[]): string {
  const first = rows[0];
  if (!first) return '';
  const columns = Object.keys(first);
  const cell = (value: string | number | undefined) => String(value ?? '');
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (left: string, mid: string, right: string) => `${left}${widths.map((w) => '─'.repeat(w + 2)).join(mid)}${right}`;
  const row = (values: (string | number | undefined)[]) =>
    `│${values.map((v, i) => ` ${typeof v === 'number' ? cell(v).padStart(widths[i] as number) : cell(v).padEnd(widths[i] as number)} `).join('│')}│`;
  return [line('┌', '┬', '┐'), row(columns), line('├', '┼', '┤'), ...rows.map((r) => row(columns.map((c) => r[c]))), line('└', '┴', '┘')].join('\n');
}
