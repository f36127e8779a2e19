import { DuckDBConnection, DuckDBValue, listValue } from '@duckdb/node-api';
import { EntityKeyError, limitExceeded, RowLimitExceededError, ValidationFailedError } from '../common/errors';
import { EVENT_TIMESTAMP, JoinKeyDef } from '../core/definitions';
import { EntityRows } from '../core/entity-rows';
import { quoteIdent } from '../core/identifiers';
import { Micros, parseTimestamp } from '../core/timestamp';
import { duckDbType } from '../core/value-types';
import { quoteLiteral, quoteName, quotePathList } from '../duckdb/sql-text';
import { duckDbTypeOf, timestampParam, toDuckDb } from '../duckdb/values';
import { firstLine } from './view-columns';
import { RowFilter, Spine } from './offline-store';
import { JoinedView, ROW_ID, SPINE } from './point-in-time-sql';

/**
 * Fills the temp table `spine` (`__row_id` in input order, the join keys typed as declared,
 * `event_timestamp` as UTC TIMESTAMP, other columns as they are) and returns its output columns.
 */
export async function loadSpine(c: DuckDBConnection, spine: Spine, keys: JoinKeyDef[], views: JoinedView[], maxRows?: number): Promise<string[]> {
  switch (spine.kind) {
    case 'rows':
      if (maxRows !== undefined && spine.rows.rowCount > maxRows) throw tooManyRows('entities', maxRows);
      await loadRowsSpine(c, spine.rows);
      return [...spine.rows.columns.map((col) => col.key.name), ...(spine.rows.extras ?? []).map((col) => col.name), EVENT_TIMESTAMP];
    case 'file':
      return loadRelation(c, readerSql(spine.path, spine.format), spine.name, keys, {}, EVENT_TIMESTAMP, '', [], maxRows);
    case 'dataset':
      return loadDatasetSpine(c, spine, keys, maxRows);
    case 'range':
      return loadRangeSpine(c, spine, keys, views, maxRows);
  }
}

/**
 * Refuses a relation with more than `maxRows` rows, reading at most one row past the limit:
 * a bounded cost whatever the source holds, paid before the join starts to spill.
 */
async function assertRowsAtMost(c: DuckDBConnection, relation: string, params: DuckDBValue[], what: string, maxRows: number | undefined): Promise<void> {
  if (maxRows === undefined) return;
  const reader = await c.runAndReadAll(`SELECT count(*) FROM (SELECT 1 FROM ${relation} LIMIT ${maxRows + 1})`, params);
  if (Number(reader.getRows()[0][0]) > maxRows) throw tooManyRows(what, maxRows);
}

function tooManyRows(what: string, maxRows: number) {
  return limitExceeded(RowLimitExceededError, `${what}: more than ${maxRows.toLocaleString('en-US')} entity rows`, 'limits.max_entity_rows', maxRows);
}

/** In-memory entity rows into the temp spine table, through the appender (typed, no SQL text). */
export async function loadRowsSpine(c: DuckDBConnection, rows: EntityRows): Promise<void> {
  const extras = rows.extras ?? [];
  const keyColumns = [...rows.columns.map((col) => ({ name: col.key.name, type: col.key.type })), ...extras].map((col) => `${quoteIdent(col.name)} ${duckDbType(col.type)}`);
  await c.run(`CREATE OR REPLACE TEMP TABLE ${SPINE} (${ROW_ID} BIGINT, ${keyColumns.join(', ')}, ${EVENT_TIMESTAMP} TIMESTAMP)`);
  const appender = await c.createAppender(SPINE, 'main', 'temp');
  const timestamps = rows.eventTimestamps as Micros[];
  const timestampType = duckDbTypeOf('timestamp');
  for (let row = 0; row < rows.rowCount; row++) {
    appender.appendBigInt(BigInt(row));
    for (const col of rows.columns) appender.appendValue(toDuckDb(col.values[row], col.key.type), duckDbTypeOf(col.key.type));
    for (const col of extras) appender.appendValue(toDuckDb(col.values[row], col.type), duckDbTypeOf(col.type));
    appender.appendValue(toDuckDb(timestamps[row], 'timestamp'), timestampType);
    appender.endRow();
  }
  appender.closeSync();
}

function readerSql(path: string, format: 'parquet' | 'csv' | 'jsonl'): string {
  if (format === 'parquet') return `read_parquet(${quoteLiteral(path)})`;
  if (format === 'csv') return `read_csv(${quoteLiteral(path)}, header = true)`;
  return `read_json(${quoteLiteral(path)}, format = 'newline_delimited')`;
}

/**
 * Any relation into the spine table, read by DuckDB (never into JS): join keys cast to their
 * declared types (from `keyColumns[key] ?? key`), `event_timestamp` from `timestampColumn`,
 * every other column kept as it is. `where` narrows the rows with bound `params`.
 */
async function loadRelation(
  c: DuckDBConnection,
  relation: string,
  name: string,
  keys: JoinKeyDef[],
  keyColumns: Record<string, string>,
  timestampColumn: string,
  where: string,
  params: DuckDBValue[],
  maxRows?: number,
): Promise<string[]> {
  const schema = await describeTypes(c, relation, name);
  const names = schema.map((col) => col.name);
  const toTimestamp = (column: string) => timestampCast(column, schema.find((col) => col.name === column)?.type ?? 'VARCHAR');
  for (const key of keys) {
    const column = keyColumns[key.name] ?? key.name;
    if (!names.includes(column)) throw new EntityKeyError(`${name}: has no column ${column}, which join key ${key.name} needs`, { column });
  }
  if (!names.includes(timestampColumn)) throw new EntityKeyError(`${name}: has no column ${timestampColumn} for the event timestamps`, { column: timestampColumn });
  await assertRowsAtMost(c, `${relation} ${where}`, params, name, maxRows);
  const select = names.map((n) => (n === EVENT_TIMESTAMP ? `${toTimestamp(n)} AS ${EVENT_TIMESTAMP}` : castKey(n, keys, keyColumns) ?? quoteName(n)));
  const added = [
    ...(names.includes(EVENT_TIMESTAMP) ? [] : [`${toTimestamp(timestampColumn)} AS ${EVENT_TIMESTAMP}`]),
    ...keys.filter((k) => !names.includes(k.name)).map((k) => `CAST(${quoteName(keyColumns[k.name])} AS ${duckDbType(k.type)}) AS ${quoteIdent(k.name)}`),
  ];
  try {
    // A view, not a table: the join reads the file once, in order, without copying it first.
    // (Parameters cannot be bound in a view definition, so a filtered dataset is still a table.)
    const kind = params.length > 0 ? 'TABLE' : 'VIEW';
    await c.run(`CREATE OR REPLACE TEMP ${kind} ${SPINE} AS SELECT row_number() OVER () AS ${ROW_ID}, ${[...select, ...added].join(', ')} FROM ${relation} ${where}`, params);
  } catch (error) {
    throw new EntityKeyError(`${name}: entity columns do not fit their types: ${firstLine(error)}`);
  }
  return [...names, ...(names.includes(EVENT_TIMESTAMP) ? [] : [EVENT_TIMESTAMP]), ...keys.filter((k) => !names.includes(k.name)).map((k) => k.name)];
}

/**
 * A column as UTC TIMESTAMP. Text may carry an offset, so it goes through TIMESTAMPTZ (session
 * zone UTC); a TIMESTAMP is already UTC and is left alone — the zone conversion costs per row.
 */
function timestampCast(column: string, type: string): string {
  const name = quoteName(column);
  if (type === 'TIMESTAMP') return name;
  if (type === 'VARCHAR') return `CAST(CAST(${name} AS TIMESTAMPTZ) AS TIMESTAMP)`;
  return `CAST(${name} AS TIMESTAMP)`;
}

function castKey(column: string, keys: JoinKeyDef[], keyColumns: Record<string, string>): string | undefined {
  const key = keys.find((k) => k.name === column && (keyColumns[k.name] ?? k.name) === column);
  return key ? `CAST(${quoteName(column)} AS ${duckDbType(key.type)}) AS ${quoteName(column)}` : undefined;
}

async function describeTypes(c: DuckDBConnection, relation: string, name: string): Promise<{ name: string; type: string }[]> {
  try {
    return (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)).getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch (error) {
    throw new EntityKeyError(`${name}: cannot be read: ${firstLine(error)}`);
  }
}

async function loadDatasetSpine(c: DuckDBConnection, spine: Extract<Spine, { kind: 'dataset' }>, keys: JoinKeyDef[], maxRows?: number): Promise<string[]> {
  const relation = `read_parquet(${quotePathList(spine.files)})`;
  const schema = await describeTypes(c, relation, `dataset ${spine.name}`);
  const conditions: string[] = [];
  const params: DuckDBValue[] = [];
  const bind = (value: DuckDBValue) => {
    params.push(value);
    return `$${params.length}`;
  };
  const ts = quoteName(spine.timestampColumn);
  if (spine.start !== undefined) conditions.push(`CAST(${ts} AS TIMESTAMP) >= ${bind(timestampParam(spine.start))}`);
  if (spine.end !== undefined) conditions.push(`CAST(${ts} AS TIMESTAMP) <= ${bind(timestampParam(spine.end))}`);
  spine.filters.forEach((filter, i) => conditions.push(filterSql(filter, i, schema, bind)));
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  return loadRelation(c, relation, `dataset ${spine.name}`, keys, spine.keyColumns, spine.timestampColumn, where, params, maxRows);
}

const SCALAR_OPS: Record<string, string> = { '=': '=', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

/** One filter as SQL over a checked column name, its value bound as a parameter of the column's type. */
function filterSql(filter: RowFilter, index: number, schema: { name: string; type: string }[], bind: (v: DuckDBValue) => string): string {
  const field = `entity_dataset.filters[${index}]`;
  const column = schema.find((c) => c.name === filter.column);
  if (!column) throw new ValidationFailedError(`${field}.column: the dataset has no column ${JSON.stringify(filter.column)}`, { field: `${field}.column` });
  const name = quoteName(column.name);
  if (filter.op === 'is null') return `${name} IS NULL`;
  if (filter.op === 'is not null') return `${name} IS NOT NULL`;
  if (filter.op === 'in' || filter.op === 'not in') {
    if (!Array.isArray(filter.value) || filter.value.length === 0) throw new ValidationFailedError(`${field}.value: must be a non-empty list for ${filter.op}`, { field: `${field}.value` });
    const values = filter.value.map((v, i) => typedValue(v, column.type, `${field}.value[${i}]`));
    return `${name} ${filter.op === 'in' ? 'IN' : 'NOT IN'} (SELECT unnest(${bind(listValue(values))}::${column.type}[]))`;
  }
  return `${name} ${SCALAR_OPS[filter.op]} ${bind(typedValue(filter.value, column.type, `${field}.value`))}::${column.type}`;
}

/** A JSON filter value as the column's type; the SQL casts the bound value to the column type too. */
function typedValue(value: unknown, type: string, field: string): DuckDBValue {
  const bad = (expected: string) => new ValidationFailedError(`${field}: expected ${expected} for a ${type} column, got ${JSON.stringify(value)}`, { field });
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/.test(type)) {
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
    throw bad('an integer');
  }
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL.*)$/.test(type)) {
    if (typeof value === 'number') return value;
    throw bad('a number');
  }
  if (type === 'BOOLEAN') {
    if (typeof value === 'boolean') return value;
    throw bad('true or false');
  }
  if (/^(TIMESTAMP|DATE|TIMESTAMP WITH TIME ZONE)/.test(type)) {
    const micros = typeof value === 'string' ? parseTimestamp(value) : null;
    if (micros === null) throw bad('an ISO-8601 timestamp');
    return timestampParam(micros);
  }
  if (typeof value === 'string') return value;
  throw bad('a string');
}

/**
 * No entity rows: the spine is every (keys, event time) of the selected views' rows with event
 * time in [start, end], in time order — "all feature rows in the window". A key a view does not
 * have is null for that view's rows.
 */
async function loadRangeSpine(c: DuckDBConnection, spine: Extract<Spine, { kind: 'range' }>, keys: JoinKeyDef[], views: JoinedView[], maxRows?: number): Promise<string[]> {
  const parts = views.map(({ view, table }) => {
    const columns = keys.map((k) => (view.joinKeys.some((vk) => vk.name === k.name) ? quoteIdent(k.name) : `NULL::${duckDbType(k.type)} AS ${quoteIdent(k.name)}`));
    return `SELECT ${columns.join(', ')}, ${EVENT_TIMESTAMP} FROM ${table} WHERE ${EVENT_TIMESTAMP} BETWEEN $1 AND $2`;
  });
  const order = [EVENT_TIMESTAMP, ...keys.map((k) => quoteIdent(k.name))].join(', ');
  const window = [timestampParam(spine.start), timestampParam(spine.end)];
  await assertRowsAtMost(c, `(${parts.join(' UNION ')})`, window, 'time_range', maxRows);
  await c.run(
    `CREATE OR REPLACE TEMP TABLE ${SPINE} AS SELECT row_number() OVER (ORDER BY ${order}) AS ${ROW_ID}, * FROM (${parts.join(' UNION ')}) ORDER BY ${ROW_ID}`,
    window,
  );
  return [...keys.map((k) => k.name), EVENT_TIMESTAMP];
}

