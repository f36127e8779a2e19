import { EntityKeyError, EntityKeyTypeError, InvalidTimestampError } from '../common/errors';
import { EVENT_TIMESTAMP, JoinKeyDef } from './definitions';
import { Micros, parseTimestamp } from './timestamp';
import { coerceJsonValue, Value } from './value-types';

export interface EntityColumn {
  key: JoinKeyDef;
  values: Value[];
}

/** Entity rows, column-major as Feast sends them, with values already in their declared types. */
export interface EntityRows {
  /** Join-key columns in the order the request gave them. */
  columns: EntityColumn[];
  /** Present for historical retrieval: one UTC timestamp per row. */
  eventTimestamps?: Micros[];
  rowCount: number;
}

export interface EntityRowsOptions {
  /** Require an `event_timestamp` column (historical retrieval). */
  withTimestamps: boolean;
  /** Upper bound on rows, so one request cannot exhaust memory. */
  maxRows: number;
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
  const rowCount = columnLength(raw, names, options.maxRows);
  for (const key of needed) {
    if (!names.includes(key.name)) {
      throw new EntityKeyError(`entities.${key.name}: missing; the requested features need join key ${key.name}`, {
        field: `entities.${key.name}`,
      });
    }
  }
  const columns: EntityColumn[] = [];
  for (const name of names) {
    if (name === EVENT_TIMESTAMP && options.withTimestamps) continue;
    const key = needed.find((k) => k.name === name);
    if (!key) {
      const known = needed.map((k) => k.name).join(', ');
      throw new EntityKeyError(`entities.${name}: not a join key of the requested features (expected: ${known})`, {
        field: `entities.${name}`,
      });
    }
    columns.push({ key, values: coerceColumn(name, raw[name] as unknown[], key) });
  }
  const rows: EntityRows = { columns, rowCount };
  if (options.withTimestamps) rows.eventTimestamps = parseTimestampColumn(raw[EVENT_TIMESTAMP]);
  return rows;
}

function columnLength(raw: Record<string, unknown>, names: string[], maxRows: number): number {
  if (names.length === 0) throw new EntityKeyError('entities: give at least one join-key column', { field: 'entities' });
  let length: number | undefined;
  for (const name of names) {
    const column = raw[name];
    if (!Array.isArray(column)) {
      throw new EntityKeyError(`entities.${name}: must be an array of values`, { field: `entities.${name}` });
    }
    if (length !== undefined && column.length !== length) {
      throw new EntityKeyError(`entities.${name}: has ${column.length} values but ${names[0]} has ${length}`, {
        field: `entities.${name}`,
      });
    }
    length = column.length;
  }
  if (!length) throw new EntityKeyError('entities: the columns hold no rows', { field: 'entities' });
  if (length > maxRows) {
    throw new EntityKeyError(`entities: ${length} rows is more than the limit of ${maxRows}`, { field: 'entities' });
  }
  return length;
}

function coerceColumn(name: string, column: unknown[], key: JoinKeyDef): Value[] {
  return column.map((raw, index) => {
    const coerced = coerceJsonValue(raw, key.type);
    if (!coerced.ok) {
      throw new EntityKeyTypeError(
        `entities.${name}[${index}]: expected ${coerced.expected} (join key ${name} is ${key.type}), got ${JSON.stringify(raw)}`,
        { field: `entities.${name}[${index}]` },
      );
    }
    return coerced.value;
  });
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
