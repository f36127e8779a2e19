/**
 * Names from feature definitions end up in SQL, Redis keys and lake paths, so they are
 * restricted to plain identifiers; quoting is still applied so reserved words stay legal.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function isIdentifier(name: unknown): name is string {
  return typeof name === 'string' && IDENTIFIER.test(name);
}

/** Quotes a validated identifier for DuckDB; throws on anything else so SQL is never pasted. */
export function quoteIdent(name: string): string {
  if (!isIdentifier(name)) {
    throw new Error(`not a valid identifier: ${JSON.stringify(name)}`);
  }
  return `"${name}"`;
}
