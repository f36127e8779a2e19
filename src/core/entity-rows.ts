import { EntityKeyError, InvalidTimestampError } from '../common/errors';
import { coerceColumn, columnMapLength, RowLimit } from './column-map';
import { EVENT_TIMESTAMP, JoinKeyDef } from './definitions';
import { Micros, parseTimestamp } from './timestamp';
import { Value } from './value-types';

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
  maxRows: RowLimit;
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
  for (const name of names) {
    if (name === EVENT_TIMESTAMP && options.withTimestamps) continue;
    const key = needed.find((k) => k.name === name);
    if (!key) {
      const known = needed.map((k) => k.name).join(', ');
      throw new EntityKeyError(`entities.${name}: not a join key of the requested features (expected: ${known})`, {
        field: `entities.${name}`,
      });
    }
    columns.push({ key, values: coerceColumn(`entities.${name}`, raw[name] as unknown[], key.type, `join key ${name}`) });
  }
  const rows: EntityRows = { columns, rowCount };
  if (options.withTimestamps) rows.eventTimestamps = parseTimestampColumn(raw[EVENT_TIMESTAMP]);
  return rows;
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
