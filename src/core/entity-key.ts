import { Value } from './value-types';

/**
 * Canonical text of one entity key (the view's join-key values in the view's key order), used
 * to address online rows. Strings are JSON-quoted so no value can forge a separator; numbers and
 * bigints print exactly. Returns null when any part is null: a null key matches nothing.
 */
export function encodeEntityKey(values: readonly Value[]): string | null {
  const parts: string[] = [];
  for (const value of values) {
    if (value === null) return null;
    parts.push(typeof value === 'string' ? JSON.stringify(value) : String(value));
  }
  return parts.join(',');
}
