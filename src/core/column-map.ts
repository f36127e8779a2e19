import { DomainError, EntityKeyError, EntityKeyTypeError, limitExceeded, RowLimitExceededError } from '../common/errors';
import { coerceJsonValue, Value, ValueType } from './value-types';

/** A bound on rows and the config field that sets it. */
export interface RowLimit {
  max: number;
  field: string;
}

type ErrorClass = new (message: string, details?: Record<string, unknown>) => DomainError;

/**
 * Checks a column-major map as Feast sends them (`{ column: [values…] }`): at least one column,
 * every column an array, all of one length, at least one row and at most `limit.max` (else
 * ROW_LIMIT_EXCEEDED naming `limit.field`). Returns the row count. Errors name the field
 * (`entities.airport`, `df.wind`).
 */
export function columnMapLength(raw: Record<string, unknown>, field: string, limit: RowLimit, error: ErrorClass = EntityKeyError): number {
  const names = Object.keys(raw);
  if (names.length === 0) throw new error(`${field}: give at least one column`, { field });
  let length: number | undefined;
  for (const name of names) {
    const column = raw[name];
    if (!Array.isArray(column)) throw new error(`${field}.${name}: must be an array of values`, { field: `${field}.${name}` });
    if (length !== undefined && column.length !== length) {
      throw new error(`${field}.${name}: has ${column.length} values but ${names[0]} has ${length}`, { field: `${field}.${name}` });
    }
    length = column.length;
  }
  if (!length) throw new error(`${field}: the columns hold no rows`, { field });
  if (length > limit.max) throw limitExceeded(RowLimitExceededError, `${field}: ${length.toLocaleString('en-US')} rows`, limit.field, limit.max);
  return length;
}

/** Converts one JSON column to `type`, naming the first bad value by its field path and row. */
export function coerceColumn(field: string, column: unknown[], type: ValueType, what: string, error: ErrorClass = EntityKeyTypeError): Value[] {
  return column.map((raw, index) => {
    const coerced = coerceJsonValue(raw, type);
    if (!coerced.ok) {
      throw new error(`${field}[${index}]: expected ${coerced.expected} (${what} is ${type}), got ${JSON.stringify(raw)}`, {
        field: `${field}[${index}]`,
      });
    }
    return coerced.value;
  });
}
