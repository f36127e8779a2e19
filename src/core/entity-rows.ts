import { EntityKeyError, InvalidTimestampError } from '../common/errors';
import { coerceColumn, columnMapLength, RowLimit } from './column-map';
import { EVENT_TIMESTAMP, JoinKeyDef } from './definitions';
import { Micros, parseTimestamp } from './timestamp';
import { Value, ValueType } from './value-types';

export interface EntityColumn {
  key: JoinKeyDef;
  values: Value[];
}

/** A column of entity rows that is no join key: its type read off its JSON values. */
export interface ExtraColumn {
  name: string;
  type: ValueType;
  values: Value[];
}

/** Entity rows, column-major as Feast sends them, with values already in their declared types. */
export interface EntityRows {
  /** Join-key columns in the order the request gave them. */
  columns: EntityColumn[];
  /** Other columns (labels) a historical request carries through to its result, typed by their values. */
  extras?: ExtraColumn[];
  /** Present for historical retrieval: one UTC timestamp per row. */
  eventTimestamps?: Micros[];
  rowCount: number;
}

export interface EntityRowsOptions {
  /** Require an `event_timestamp` column (historical retrieval). */
  withTimestamps: boolean;
  /** Upper bound on rows, so one request cannot exhaust memory. */
  maxRows: RowLimit;
  /** Keep columns that are no join key (historical retrieval: labels ride along to the result). */
  extraColumns?: boolean;
}

/**
 * Checks and converts the `entities` map of a request against the join keys the selected views
 * need: every needed key present, no unknown key, equal column lengths, every value of its
 * key's type. Errors name the column and the row index.
 */
export function parseEntityRows(
  raw: Record<string, unknown>,
  needed: JoinKeyDef[],
  options: EntityRowsOptions,
): EntityRows {
  const names = Object.keys(raw);
  const rowCount = columnMapLength(raw, 'entities', options.maxRows);
  for (const key of needed) {
    if (!names.includes(key.name)) {
      throw new EntityKeyError(`entities.${key.name}: missing; the requested features need join key ${key.name}`, {
        field: `entities.${key.name}`,
      });
    }
  }
  const columns: EntityColumn[] = [];
  let extras: ExtraColumn[] | undefined;
  for (const name of names) {
    if (name === EVENT_TIMESTAMP && options.withTimestamps) continue;
    const key = needed.find((k) => k.name === name);
    if (!key && options.extraColumns) {
      (extras ??= []).push(extraColumn(name, raw[name] as unknown[]));
      continue;
    }
    if (!key) {
      const known = needed.map((k) => k.name).join(', ');
      throw new EntityKeyError(`entities.${name}: not a join key of the requested features (expected: ${known})`, {
        field: `entities.${name}`,
      });
    }
    columns.push({ key, values: coerceColumn(`entities.${name}`, raw[name] as unknown[], key.type, `join key ${name}`) });
  }
  const rows: EntityRows = extras ? { columns, extras, rowCount } : { columns, rowCount };
  if (options.withTimestamps) rows.eventTimestamps = parseTimestampColumn(raw[EVENT_TIMESTAMP]);
  return rows;
}

/**
 * A label column's type, from its JSON values (nulls aside): all booleans → bool, all integers →
 * int64, all numbers → float64, all strings → string; anything else (mixed kinds, objects,
 * arrays) is refused, naming the column.
 */
function extraColumn(name: string, values: unknown[]): ExtraColumn {
  const present = values.filter((v) => v !== null && v !== undefined);
  const kinds = new Set(present.map((v) => typeof v));
  const field = `entities.${name}`;
  let type: ValueType = 'string';
  if (kinds.size > 1 || present.some((v) => typeof v === 'object')) {
    throw new EntityKeyError(`${field}: the values of an extra column must all be numbers, all strings or all booleans (nulls aside)`, { field });
  }
  if (kinds.has('boolean')) type = 'bool';
  else if (kinds.has('number')) type = present.every((v) => Number.isInteger(v)) ? 'int64' : 'float64';
  const typed = values.map((v): Value => (v === null || v === undefined ? null : type === 'int64' ? BigInt(v as number) : (v as Value)));
  return { name, type, values: typed };
}

function parseTimestampColumn(column: unknown): Micros[] {
  if (!Array.isArray(column)) {
    throw new EntityKeyError(`entities.${EVENT_TIMESTAMP}: missing; historical retrieval needs one timestamp per row`, {
      field: `entities.${EVENT_TIMESTAMP}`,
    });
  }
  return column.map((raw, index) => {
    const micros = typeof raw === 'string' ? parseTimestamp(raw) : null;
    if (micros === null) {
      throw new InvalidTimestampError(
        `entities.${EVENT_TIMESTAMP}[${index}]: ${JSON.stringify(raw)} is not an ISO-8601 timestamp`,
        { field: `entities.${EVENT_TIMESTAMP}[${index}]` },
      );
    }
    return micros;
  });
}
