/** Rows per multi-row statement: keeps every statement far below SQLite's bound-parameter limit. */
export const INSERT_CHUNK = 500;

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
