import { formatTimestamp, Micros, parseTimestamp } from './timestamp';

export const VALUE_TYPES = ['int32', 'int64', 'float32', 'float64', 'string', 'bool', 'timestamp'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/**
 * A feature or entity-key value in memory, by declared type:
 * int32/float32/float64 → number, int64 → bigint, string → string, bool → boolean,
 * timestamp → bigint UTC microseconds. null is a missing value.
 */
export type Value = number | bigint | string | boolean | null;

const DUCKDB_TYPES: Record<ValueType, string> = {
  int32: 'INTEGER',
  int64: 'BIGINT',
  float32: 'FLOAT',
  float64: 'DOUBLE',
  string: 'VARCHAR',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

export function isValueType(text: unknown): text is ValueType {
  return typeof text === 'string' && (VALUE_TYPES as readonly string[]).includes(text);
}

export function duckDbType(type: ValueType): string {
  return DUCKDB_TYPES[type];
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^-?\d{1,19}$/;

export type Coerced = { ok: true; value: Value } | { ok: false; expected: string };

/**
 * Converts a value that arrived as JSON into the in-memory form of `type`.
 * Strict on purpose: a string never becomes a number and a float never becomes an int,
 * so a client's type mistake is reported instead of silently matching nothing.
 * int64 also accepts a string of digits, because JSON numbers lose precision past 2^53.
 */
export function coerceJsonValue(raw: unknown, type: ValueType): Coerced {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  switch (type) {
    case 'int32':
      return Number.isInteger(raw) && (raw as number) >= INT32_MIN && (raw as number) <= INT32_MAX
        ? { ok: true, value: raw as number }
        : { ok: false, expected: 'a 32-bit integer' };
    case 'int64':
      return coerceInt64(raw);
    case 'float32':
    case 'float64':
      return typeof raw === 'number' ? { ok: true, value: raw } : { ok: false, expected: 'a number' };
    case 'string':
      return typeof raw === 'string' ? { ok: true, value: raw } : { ok: false, expected: 'a string' };
    case 'bool':
      return typeof raw === 'boolean' ? { ok: true, value: raw } : { ok: false, expected: 'true or false' };
    case 'timestamp': {
      const micros = typeof raw === 'string' ? parseTimestamp(raw) : null;
      return micros === null ? { ok: false, expected: 'an ISO-8601 timestamp' } : { ok: true, value: micros };
    }
  }
}

function coerceInt64(raw: unknown): Coerced {
  const expected = 'a 64-bit integer (a number, or a string of digits beyond 2^53)';
  if (typeof raw === 'number') {
    return Number.isSafeInteger(raw) ? { ok: true, value: BigInt(raw) } : { ok: false, expected };
  }
  if (typeof raw === 'string' && INTEGER_TEXT.test(raw)) {
    const value = BigInt(raw);
    return value >= INT64_MIN && value <= INT64_MAX ? { ok: true, value } : { ok: false, expected };
  }
  return { ok: false, expected };
}

/**
 * The JSON form of a value for responses: timestamps as RFC 3339 text, non-finite floats as
 * text (JSON has no NaN), int64 stays a bigint and is written as an exact JSON number.
 */
export function toJsonValue(value: Value, type: ValueType): Value {
  if (value === null) return null;
  if (type === 'timestamp') return formatTimestamp(value as Micros);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}
