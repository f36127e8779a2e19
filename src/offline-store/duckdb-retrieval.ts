import { DuckDBConnection } from '@duckdb/node-api';
import { EntityKeyError } from '../common/errors';
import { EVENT_TIMESTAMP, JoinKeyDef } from '../core/definitions';
import { EntityRows } from '../core/entity-rows';
import { quoteIdent } from '../core/identifiers';
import { Micros } from '../core/timestamp';
import { duckDbType } from '../core/value-types';
import { quoteLiteral, quoteName } from '../duckdb/sql-text';
import { duckDbTypeOf, toDuckDb } from '../duckdb/values';
import { firstLine } from './duckdb-views';
import { HistoricalQuery, Spine } from './offline-store';
import { JoinedView, ROW_ID, SPINE } from './point-in-time-sql';

export function joinedViews(query: HistoricalQuery): JoinedView[] {
  return query.selection.views.map((v) => ({ view: v.view, features: v.features }));
}

export async function loadSpine(c: DuckDBConnection, spine: Spine, keys: JoinKeyDef[]): Promise<string[]> {
  if (spine.kind === 'rows') {
    await loadRowsSpine(c, spine.rows);
    return [...spine.rows.columns.map((col) => col.key.name), EVENT_TIMESTAMP];
  }
  return loadFileSpine(c, spine, keys);
}

/** In-memory entity rows into the temp spine table, through the appender (typed, no SQL text). */
export async function loadRowsSpine(c: DuckDBConnection, rows: EntityRows): Promise<void> {
  const keyColumns = rows.columns.map((col) => `${quoteIdent(col.key.name)} ${duckDbType(col.key.type)}`);
  await c.run(`CREATE OR REPLACE TEMP TABLE ${SPINE} (${ROW_ID} BIGINT, ${keyColumns.join(', ')}, ${EVENT_TIMESTAMP} TIMESTAMP)`);
  const appender = await c.createAppender(SPINE, 'main', 'temp');
  const timestamps = rows.eventTimestamps as Micros[];
  const timestampType = duckDbTypeOf('timestamp');
  for (let row = 0; row < rows.rowCount; row++) {
    appender.appendBigInt(BigInt(row));
    for (const col of rows.columns) appender.appendValue(toDuckDb(col.values[row], col.key.type), duckDbTypeOf(col.key.type));
    appender.appendValue(toDuckDb(timestamps[row], 'timestamp'), timestampType);
    appender.endRow();
  }
  appender.closeSync();
}

/**
 * An entity file into the spine table, read by DuckDB (never into JS). Join keys are cast to
 * their declared types; other columns (labels, ids) ride along into the output unchanged.
 */
async function loadFileSpine(c: DuckDBConnection, spine: Extract<Spine, { kind: 'file' }>, keys: JoinKeyDef[]): Promise<string[]> {
  const reader =
    spine.format === 'parquet'
      ? `read_parquet(${quoteLiteral(spine.path)})`
      : spine.format === 'csv'
        ? `read_csv(${quoteLiteral(spine.path)}, header = true)`
        : `read_json(${quoteLiteral(spine.path)}, format = 'newline_delimited')`;
  let names: string[];
  try {
    names = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${reader}`)).getRowObjectsJS().map((r) => String(r.column_name));
  } catch (error) {
    throw new EntityKeyError(`${spine.name}: cannot be read as ${spine.format}: ${firstLine(error)}`);
  }
  for (const needed of [...keys.map((k) => k.name), EVENT_TIMESTAMP]) {
    if (!names.includes(needed)) throw new EntityKeyError(`${spine.name}: has no column ${needed}, which the requested features need`, { column: needed });
  }
  const select = names.map((name) => {
    const key = keys.find((k) => k.name === name);
    if (key) return `CAST(${quoteName(name)} AS ${duckDbType(key.type)}) AS ${quoteName(name)}`;
    if (name === EVENT_TIMESTAMP) return `CAST(CAST(${quoteName(name)} AS TIMESTAMPTZ) AS TIMESTAMP) AS ${EVENT_TIMESTAMP}`;
    return quoteName(name);
  });
  try {
    await c.run(`CREATE OR REPLACE TEMP TABLE ${SPINE} AS SELECT row_number() OVER () AS ${ROW_ID}, ${select.join(', ')} FROM ${reader}`);
  } catch (error) {
    throw new EntityKeyError(`${spine.name}: entity columns do not fit their types: ${firstLine(error)}`);
  }
  return names;
}

