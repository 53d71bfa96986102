/** A double-quoted SQL identifier, for the statements kysely does not build (LISTEN on a raw pg client). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
