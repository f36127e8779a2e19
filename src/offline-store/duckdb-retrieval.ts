import { DuckDBConnection } from '@duckdb/node-api';
import { FeatureNameCollisionError } from '../common/errors';
import { EVENT_TIMESTAMP } from '../core/definitions';
import { outputColumns, TimestampOutput } from '../duckdb/output-timestamps';
import { quoteLiteral, quotePathList } from '../duckdb/sql-text';
import { exposeDataset } from './bucket-work';
import { loadSpine } from './duckdb-spine';
import { sourceRowsSql } from './offline-sql';
import { HistoricalQuery, OutputFormat, ResultFile } from './offline-store';
import { inPartSql, keyedLikePart, SPINE_PART } from './join-parts';
import { JoinedView, pointInTimeSql, ROW_ID, SPINE } from './point-in-time-sql';
import { checkViewColumns } from './view-columns';

/** A view's current rows as SQL (over its lake files), and whether (keys, event time) may repeat in them. */
export interface ViewRelation {
  sql: string;
  dedup: boolean;
}

/**
 * Each selected view's rows as a relation: its offline rows in the lake (`relations`, a temp
 * view over its files), or, for a reproducible build, a temp table recomputed from the given
 * lake files with the view's SQL.
 */
export async function prepareViews(c: DuckDBConnection, query: HistoricalQuery, relations: Map<string, ViewRelation>): Promise<JoinedView[]> {
  const source = query.features ?? { kind: 'offline' };
  const selected = query.selection.views;
  const joined: JoinedView[] = [];
  for (const [i, { view, features }] of selected.entries()) {
    if (source.kind === 'offline') {
      const relation = relations.get(view.def.name);
      if (!relation) throw new Error(`no offline rows given for feature view ${view.def.name}`);
      await c.run(`CREATE OR REPLACE TEMP VIEW ov_${i} AS ${relation.sql}`);
      joined.push({ view, features, table: `ov_${i}`, dedup: relation.dedup });
      continue;
    }
    const data = source.sources.get(view.def.name);
    if (!data) throw new Error(`no lake files given for feature view ${view.def.name}`);
    await exposeDataset(c, view, data.files, null);
    const hasCreated = await checkViewColumns(c, view);
    // Of a part, only the rows that can match it (a view keyed otherwise: all of them).
    const inPart = query.part && keyedLikePart(view.joinKeys, query.part) ? ` AND ${inPartSql(query.part)}` : '';
    await c.run(`CREATE OR REPLACE TEMP TABLE fv_${i} AS SELECT * FROM (${sourceRowsSql(view, hasCreated)}) WHERE ${EVENT_TIMESTAMP} IS NOT NULL${inPart}`);
    joined.push({ view, features, table: `temp.fv_${i}`, dedup: true });
  }
  return joined;
}

/** Spine, views and the join: the SQL of a historical query, with the spine loaded. */
export async function historicalSql(c: DuckDBConnection, query: HistoricalQuery, withMatchTimestamps: boolean, relations: Map<string, ViewRelation>): Promise<string> {
  const views = await prepareViews(c, query, relations);
  const spineColumns = await loadSpine(c, query.spine, query.selection.joinKeys, views, query.maxEntityRows);
  assertNoCollision(spineColumns, query);
  const part = query.part;
  if (part) await c.run(`CREATE OR REPLACE TEMP TABLE ${SPINE_PART} AS SELECT * FROM ${SPINE} WHERE ${inPartSql(part)}`);
  return pointInTimeSql({
    spineColumns,
    views,
    columns: query.selection.columns,
    withMatchTimestamps,
    createdBeforeEvent: query.createdBeforeEvent ?? false,
    ...(part ? { spine: SPINE_PART, withRowId: true } : {}),
  });
}

/**
 * An entity column (a label, a column of a re-featurized set) named like an output feature would
 * leave the result with two columns of one name, which the engine renames silently (`temp_max_1`).
 * It is refused instead, naming both sides and the way out.
 */
function assertNoCollision(spineColumns: string[], query: HistoricalQuery): void {
  const names = new Set(spineColumns);
  for (const column of query.selection.columns) {
    if (!names.has(column.name)) continue;
    const full = `${column.viewName}__${column.feature.name}`;
    throw new FeatureNameCollisionError(
      `entity column ${JSON.stringify(column.name)} and feature ${column.viewName}:${column.feature.name} have the same name; rename the entity column, or ask for full feature names (the feature is then ${full})`,
      { column: column.name, feature: `${column.viewName}:${column.feature.name}` },
    );
  }
}

/** The parts' result files as one, in input order, without the row id (mergeParts). */
export async function mergeResults(c: DuckDBConnection, parts: string[], path: string): Promise<ResultFile> {
  // The parts were written as the whole would be (zoned or naive): the merge keeps their types.
  return writeResult(c, `SELECT * EXCLUDE (${ROW_ID}) FROM read_parquet(${quotePathList(parts)}) ORDER BY ${ROW_ID}`, 'parquet', path, 'naive');
}

/** Writes a result for users: its times UTC-aware (output-timestamps.ts) unless `timestamps` is naive. */
export async function writeResult(c: DuckDBConnection, sql: string, format: OutputFormat, path: string, timestamps: TimestampOutput = 'utc'): Promise<ResultFile> {
  const described = (await c.runAndReadAll(`DESCRIBE ${sql}`)).getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  const { select, columns } = outputColumns(described, format === 'parquet' ? 'parquet' : 'text', timestamps);
  const options = format === 'parquet' ? 'FORMAT parquet, COMPRESSION zstd' : format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT json';
  const result = await c.run(`COPY (SELECT ${select} FROM (${sql}) AS r) TO ${quoteLiteral(path)} (${options})`);
  return { rows: result.rowsChanged, columns };
}
