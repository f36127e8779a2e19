import { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import {
  EntityKeyError,
  FeatureViewNotMaterializedError,
  FeatureViewSqlError,
  MaterializationFailedError,
} from '../common/errors';
import { ResolvedView } from '../core/catalog';
import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, JoinKeyDef } from '../core/definitions';
import { encodeEntityKey } from '../core/entity-key';
import { EntityRows } from '../core/entity-rows';
import { quoteIdent } from '../core/identifiers';
import { OnlineRecord } from '../core/online-record';
import { Micros } from '../core/timestamp';
import { duckDbType } from '../core/value-types';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { quoteLiteral, quoteName, quotePathList } from '../duckdb/sql-text';
import { duckDbTypeOf, fromDuckDb, micros, timestampParam, toDuckDb } from '../duckdb/values';
import {
  HistoricalColumns,
  HistoricalQuery,
  OfflineStore,
  OutputFormat,
  SourceData,
  Spine,
} from './offline-store';
import {
  createTableSql,
  deleteWindowSql,
  FEATURE_SCHEMA,
  insertWindowSql,
  latestPerEntitySql,
  META_SCHEMA,
  tableName,
  viewQuery,
} from './offline-sql';
import { JoinedView, pointInTimeSql, ROW_ID, SPINE } from './point-in-time-sql';

const META = `${META_SCHEMA}.views`;

/** The offline store in one DuckDB file: a table per feature view, plus a small metadata table. */
export class DuckDbOfflineStore extends OfflineStore {
  private schemaReady?: Promise<void>;

  constructor(private readonly db: DuckDbDatabase) {
    super();
  }

  async materializeWindow(view: ResolvedView, source: SourceData, start: Micros, end: Micros): Promise<number> {
    return this.session(async (c) => {
      await c.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(source.dataset.name)} AS SELECT * FROM read_parquet(${quotePathList(source.files)})`);
      const hasCreated = await checkViewColumns(c, view);
      await c.run('BEGIN TRANSACTION');
      try {
        await ensureTable(c, view);
        await c.run(deleteWindowSql(view), [timestampParam(start), timestampParam(end)]);
        const inserted = await c.run(insertWindowSql(view, hasCreated), [timestampParam(start), timestampParam(end)]);
        await c.run('COMMIT');
        return inserted.rowsChanged;
      } catch (error) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw new MaterializationFailedError(`feature view ${view.def.name}: ${firstLine(error)}`, { view: view.def.name });
      }
    });
  }

  async *latestRows(view: ResolvedView, start: Micros, end: Micros, batchSize: number): AsyncIterable<OnlineRecord[]> {
    const connection = await this.db.connect();
    try {
      const result = await connection.stream(latestPerEntitySql(view), [timestampParam(start), timestampParam(end)]);
      let batch: OnlineRecord[] = [];
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const columns = chunk.getColumns();
        for (let row = 0; row < chunk.rowCount; row++) batch.push(toRecord(view, columns, row));
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      connection.closeSync();
    }
  }

  async historicalColumns(query: HistoricalQuery): Promise<HistoricalColumns> {
    if (query.spine.kind !== 'rows') throw new Error('historicalColumns takes in-memory entity rows; use historicalToFile for files');
    const rows = query.spine.rows;
    return this.session(async (c) => {
      await loadRowsSpine(c, rows);
      await assertMaterialized(c, query);
      const keys = rows.columns.map((col) => col.key);
      const views = joinedViews(query);
      const sql = pointInTimeSql({ spineColumns: [...keys.map((k) => k.name), EVENT_TIMESTAMP], views, columns: query.selection.columns, withMatchTimestamps: true });
      const columns = (await c.runAndReadAll(sql)).getColumns();
      const first = keys.length + 1;
      return {
        entityColumns: rows.columns.map((col) => ({ key: col.key, values: col.values })),
        eventTimestamps: rows.eventTimestamps as Micros[],
        features: query.selection.columns.map((column, i) => {
          const viewIndex = views.findIndex((v) => v.view.def.name === column.viewName);
          return {
            column,
            values: columns[first + i].map((raw) => fromDuckDb(raw, column.feature.type)),
            matchedAt: columns[first + query.selection.columns.length + viewIndex].map(micros),
          };
        }),
      };
    });
  }

  async historicalToFile(query: HistoricalQuery, format: OutputFormat, path: string): Promise<number> {
    return this.session(async (c) => {
      const spineColumns = await loadSpine(c, query.spine, query.selection.joinKeys);
      await assertMaterialized(c, query);
      const sql = pointInTimeSql({ spineColumns, views: joinedViews(query), columns: query.selection.columns, withMatchTimestamps: false });
      const options = format === 'parquet' ? 'FORMAT parquet, COMPRESSION zstd' : format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT json';
      const result = await c.run(`COPY (${sql}) TO ${quoteLiteral(path)} (${options})`);
      return result.rowsChanged;
    });
  }

  async watermark(view: ResolvedView): Promise<Micros | null> {
    return this.session(async (c) => {
      const rows = (await c.runAndReadAll(`SELECT watermark FROM ${META} WHERE view = $1 AND fingerprint = $2`, [view.def.name, view.fingerprint])).getRows();
      return rows.length ? micros(rows[0][0]) : null;
    });
  }

  async setWatermark(view: ResolvedView, end: Micros): Promise<void> {
    await this.session((c) => c.run(`UPDATE ${META} SET watermark = $1 WHERE view = $2`, [timestampParam(end), view.def.name]));
  }

  /** A connection with the schemas in place (created once per process). */
  private async session<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.db.withConnection(async (c) => {
      this.schemaReady ??= createSchemas(c).catch((error: unknown) => {
        this.schemaReady = undefined;
        throw error;
      });
      await this.schemaReady;
      return work(c);
    });
  }
}

async function createSchemas(c: DuckDBConnection): Promise<void> {
  await c.run(`CREATE SCHEMA IF NOT EXISTS ${FEATURE_SCHEMA}`);
  await c.run(`CREATE SCHEMA IF NOT EXISTS ${META_SCHEMA}`);
  await c.run(`CREATE TABLE IF NOT EXISTS ${META} (view VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL, watermark TIMESTAMP)`);
}

/** Checks the view's SQL returns what the view declares; returns whether it has created_timestamp. */
async function checkViewColumns(c: DuckDBConnection, view: ResolvedView): Promise<boolean> {
  let names: string[];
  try {
    const reader = await c.runAndReadAll(`DESCRIBE SELECT * FROM (${viewQuery(view)}) AS src`);
    names = reader.getRowObjectsJS().map((r) => String(r.column_name));
  } catch (error) {
    throw new FeatureViewSqlError(`feature view ${view.def.name}: its sql fails: ${firstLine(error)}`, { view: view.def.name });
  }
  const needed = [...view.joinKeys.map((k) => k.name), EVENT_TIMESTAMP, ...view.def.features.map((f) => f.name)];
  const missing = needed.filter((n) => !names.includes(n));
  if (missing.length > 0) {
    throw new FeatureViewSqlError(
      `feature view ${view.def.name}: its sql returns no column ${missing.join(', ')} (it returns ${names.join(', ')})`,
      { view: view.def.name, missing },
    );
  }
  return names.includes(CREATED_TIMESTAMP);
}

/** Creates the view's table, or recreates it when the view's shape (fingerprint) changed. */
async function ensureTable(c: DuckDBConnection, view: ResolvedView): Promise<void> {
  const rows = (await c.runAndReadAll(`SELECT fingerprint FROM ${META} WHERE view = $1`, [view.def.name])).getRows();
  if (rows.length > 0 && rows[0][0] === view.fingerprint) return;
  await c.run(`DROP TABLE IF EXISTS ${tableName(view)}`);
  await c.run(createTableSql(view));
  await c.run(`INSERT OR REPLACE INTO ${META} VALUES ($1, $2, NULL)`, [view.def.name, view.fingerprint]);
}

async function assertMaterialized(c: DuckDBConnection, query: HistoricalQuery): Promise<void> {
  for (const { view } of query.selection.views) {
    const rows = (await c.runAndReadAll(`SELECT fingerprint FROM ${META} WHERE view = $1`, [view.def.name])).getRows();
    if (rows.length === 0 || rows[0][0] !== view.fingerprint) {
      throw new FeatureViewNotMaterializedError(
        `feature view ${view.def.name} has no offline rows for its current definition: run featurelake materialize first`,
        { view: view.def.name },
      );
    }
  }
}

function joinedViews(query: HistoricalQuery): JoinedView[] {
  return query.selection.views.map((v) => ({ view: v.view, features: v.features }));
}

async function loadSpine(c: DuckDBConnection, spine: Spine, keys: JoinKeyDef[]): Promise<string[]> {
  if (spine.kind === 'rows') {
    await loadRowsSpine(c, spine.rows);
    return [...spine.rows.columns.map((col) => col.key.name), EVENT_TIMESTAMP];
  }
  return loadFileSpine(c, spine, keys);
}

/** In-memory entity rows into the temp spine table, through the appender (typed, no SQL text). */
async function loadRowsSpine(c: DuckDBConnection, rows: EntityRows): Promise<void> {
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

function toRecord(view: ResolvedView, columns: DuckDBValue[][], row: number): OnlineRecord {
  const keyCount = view.joinKeys.length;
  const keyValues = view.joinKeys.map((k, i) => fromDuckDb(columns[i][row], k.type));
  return {
    entityKey: encodeEntityKey(keyValues) as string,
    eventTimestamp: micros(columns[keyCount][row]) as Micros,
    createdTimestamp: micros(columns[keyCount + 1][row]),
    values: view.def.features.map((f, i) => fromDuckDb(columns[keyCount + 2 + i][row], f.type)),
  };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
