import { quoteName } from './sql-text';

/**
 * Every time featurelake keeps is UTC, but DuckDB's TIMESTAMP carries no zone: written as it
 * is, Parquet says `isAdjustedToUTC=false` and CSV prints `2026-11-13 12:00:00`, which pandas
 * reads as naive times. Results handed to users say UTC instead (as Feast's do): Parquet as
 * TIMESTAMP WITH TIME ZONE, text as RFC 3339 with a fixed six fractional digits and `Z`.
 */
export type TimestampOutput = 'utc' | 'naive';

const NAIVE = new Set(['TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS']);
const ZONED = 'TIMESTAMP WITH TIME ZONE';
/** One width for every value: pandas infers a format from the first value and applies it to all. */
export const RFC3339_MICROS = '%Y-%m-%dT%H:%M:%S.%fZ';

export interface ColumnType {
  name: string;
  type: string;
}

/** The select list that writes `columns` for `target`, and the types the written columns have. */
export function outputColumns(columns: ColumnType[], target: 'parquet' | 'text', timestamps: TimestampOutput = 'utc'): { select: string; columns: ColumnType[] } {
  const out = columns.map((col) => {
    const name = quoteName(col.name);
    if (timestamps === 'naive') return { sql: name, col };
    if (target === 'parquet' && NAIVE.has(col.type)) return { sql: `CAST(${name} AS TIMESTAMPTZ) AS ${name}`, col: { name: col.name, type: ZONED } };
    // The session's TimeZone is UTC (DuckDbDatabase.connect), so the cast keeps UTC wall time.
    if (target === 'text' && (NAIVE.has(col.type) || col.type === ZONED || col.type === 'TIMESTAMP_NS')) {
      return { sql: `strftime(CAST(${name} AS TIMESTAMP), '${RFC3339_MICROS}') AS ${name}`, col: { name: col.name, type: 'VARCHAR' } };
    }
    return { sql: name, col };
  });
  return { select: out.map((o) => o.sql).join(', '), columns: out.map((o) => o.col) };
}
