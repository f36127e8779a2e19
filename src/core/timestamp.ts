import { InvalidTimestampError } from '../common/errors';

/**
 * Timestamps are carried as UTC microseconds since the epoch in a bigint: DuckDB's TIMESTAMP
 * resolution, exact beyond 2^53, and free of the time-zone guesses that Date invites.
 */
export type Micros = bigint;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

const MICROS_PER_MS = 1000n;
export const MICROS_PER_SECOND = 1_000_000n;

/**
 * Parses ISO-8601 / RFC 3339 text (`2001-03-01`, `2001-03-01T10:00:00`, `…Z`, `…+02:00`).
 * Text without an offset is UTC. Returns null for anything else, including impossible dates.
 */
export function parseTimestamp(text: string): Micros | null {
  const m = ISO.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset] = m;
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const check = new Date(Date.UTC(2000, 0, 1, +h, +mi, +s));
  check.setUTCFullYear(+y, +mo - 1, +d);
  const ms = check.getTime();
  if (
    Number.isNaN(ms) ||
    check.getUTCFullYear() !== +y ||
    check.getUTCMonth() !== +mo - 1 ||
    check.getUTCDate() !== +d ||
    +h > 23 ||
    +mi > 59 ||
    +s > 59
  ) {
    return null;
  }
  const fracMicros = BigInt((frac + '000000').slice(0, 6));
  return BigInt(ms) * MICROS_PER_MS + fracMicros - offsetMicros(offset);
}

function offsetMicros(offset: string | undefined): Micros {
  if (!offset || offset === 'Z' || offset === 'z') return 0n;
  const sign = offset.startsWith('-') ? -1n : 1n;
  const digits = offset.slice(1).replace(':', '');
  const hours = BigInt(digits.slice(0, 2));
  const minutes = BigInt(digits.slice(2, 4) || '0');
  return sign * (hours * 3600n + minutes * 60n) * MICROS_PER_SECOND;
}

/** RFC 3339 in UTC with a `Z`; fractional seconds, when present, in 3 or 6 digits (as Feast prints them). */
export function formatTimestamp(micros: Micros): string {
  const ms = micros / MICROS_PER_MS - (micros % MICROS_PER_MS < 0n ? 1n : 0n);
  const subMs = micros - ms * MICROS_PER_MS;
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const base = iso.slice(0, 19);
  // Protobuf's JSON rule (0, 3 or 6 digits), as Feast's server prints times: Python 3.10's
  // datetime.fromisoformat, which Feast's client uses, reads no other number of digits.
  const fraction = (iso.slice(20, 23) + subMs.toString().padStart(3, '0')).replace(/000$/, '').replace(/^000$/, '');
  return fraction ? `${base}.${fraction}Z` : `${base}Z`;
}

export function nowMicros(): Micros {
  return BigInt(Date.now()) * MICROS_PER_MS;
}

export function secondsToMicros(seconds: number): Micros {
  return BigInt(seconds) * MICROS_PER_SECOND;
}

/** parseTimestamp for a named request field: the error names the field and the bad text. */
export function requireTimestamp(text: string, field: string): Micros {
  const micros = parseTimestamp(text);
  if (micros === null) {
    throw new InvalidTimestampError(`${field}: ${JSON.stringify(text)} is not an ISO-8601 timestamp (e.g. 2001-03-01T00:00:00Z)`, { field });
  }
  return micros;
}
