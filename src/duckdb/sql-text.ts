/**
 * Quoting for names that come from data files (raw columns may hold spaces or quotes) and for
 * paths featurelake generates. Names from feature definitions use core/identifiers instead.
 */
export function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export function quotePathList(paths: readonly string[]): string {
  return `[${paths.map(quoteLiteral).join(', ')}]`;
}
