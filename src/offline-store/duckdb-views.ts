import { DuckDBConnection } from '@duckdb/node-api';
import { FeatureViewNotMaterializedError, FeatureViewSqlError } from '../common/errors';
import { ResolvedView } from '../core/catalog';
import { CREATED_TIMESTAMP, EVENT_TIMESTAMP } from '../core/definitions';
import { quoteIdent } from '../core/identifiers';
import { Micros } from '../core/timestamp';
import { micros, timestampParam } from '../duckdb/values';
import { createPendingTableSql, createTableSql, FEATURE_SCHEMA, META_SCHEMA, PENDING_SEQUENCE, pendingCountSql, pendingTableName, tableName, viewQuery } from './offline-sql';
import { ViewState } from './offline-store';

/** Per view: the shape its table was built for, and how far incremental materialization got. */
export const META = `${META_SCHEMA}.views`;

export async function createSchemas(c: DuckDBConnection): Promise<void> {
  await c.run(`CREATE SCHEMA IF NOT EXISTS ${FEATURE_SCHEMA}`);
  await c.run(`CREATE SCHEMA IF NOT EXISTS ${META_SCHEMA}`);
  await c.run(`CREATE SEQUENCE IF NOT EXISTS ${PENDING_SEQUENCE}`);
  await c.run(
    `CREATE TABLE IF NOT EXISTS ${META} (view VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL, consumed_snapshot BIGINT, watermark TIMESTAMP)`,
  );
  await c.run(`ALTER TABLE ${META} ADD COLUMN IF NOT EXISTS unique_event_times BOOLEAN`);
  await c.run(`ALTER TABLE ${META} ADD COLUMN IF NOT EXISTS online_epoch BIGINT`);
}

/**
 * Whether (keys, event time) is unique in the view's table, so that point-in-time joins can skip
 * the tie-breaking pass. Computed on first need after each write (which resets it) and kept.
 */
export async function uniqueEventTimes(c: DuckDBConnection, view: ResolvedView): Promise<boolean> {
  const known = (await c.runAndReadAll(`SELECT unique_event_times FROM ${META} WHERE view = $1`, [view.def.name])).getRows()[0]?.[0];
  if (known !== null && known !== undefined) return known as boolean;
  const keys = view.joinKeys.map((k) => quoteIdent(k.name)).join(', ');
  const unique = (await c.runAndReadAll(`SELECT count(*) = count(DISTINCT (${keys}, ${EVENT_TIMESTAMP})) FROM ${tableName(view)}`)).getRows()[0][0] as boolean;
  await c.run(`UPDATE ${META} SET unique_event_times = $1 WHERE view = $2`, [unique, view.def.name]);
  return unique;
}

/** Called by every write to a view's table: the uniqueness must be found again. */
export async function forgetUniqueness(c: DuckDBConnection, view: ResolvedView): Promise<void> {
  await c.run(`UPDATE ${META} SET unique_event_times = NULL WHERE view = $1`, [view.def.name]);
}

/** Checks the view's SQL returns what the view declares; returns whether it has created_timestamp. */
export async function checkViewColumns(c: DuckDBConnection, view: ResolvedView): Promise<boolean> {
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

/**
 * Creates the view's table and pending table, or recreates both (and forgets the view's
 * incremental state) when the view's shape (fingerprint) changed. Runs inside the caller's
 * transaction.
 */
export async function ensureTables(c: DuckDBConnection, view: ResolvedView): Promise<void> {
  const rows = (await c.runAndReadAll(`SELECT fingerprint FROM ${META} WHERE view = $1`, [view.def.name])).getRows();
  if (rows.length > 0 && rows[0][0] === view.fingerprint) return;
  await c.run(`DROP TABLE IF EXISTS ${tableName(view)}`);
  await c.run(`DROP TABLE IF EXISTS ${pendingTableName(view)}`);
  await c.run(createTableSql(view));
  await c.run(createPendingTableSql(view));
  await c.run(`INSERT OR REPLACE INTO ${META} (view, fingerprint) VALUES ($1, $2)`, [view.def.name, view.fingerprint]);
}

export async function readViewState(c: DuckDBConnection, view: ResolvedView): Promise<ViewState> {
  const rows = (
    await c.runAndReadAll(`SELECT consumed_snapshot, watermark, online_epoch FROM ${META} WHERE view = $1 AND fingerprint = $2`, [view.def.name, view.fingerprint])
  ).getRows();
  if (rows.length === 0) return { consumedSnapshot: null, watermark: null, pendingOnline: 0, onlineEpoch: null };
  const pending = (await c.runAndReadAll(pendingCountSql(view))).getRows()[0][0] as bigint;
  return {
    consumedSnapshot: rows[0][0] === null ? null : Number(rows[0][0]),
    watermark: micros(rows[0][1]),
    pendingOnline: Number(pending),
    onlineEpoch: rows[0][2] === null ? null : Number(rows[0][2]),
  };
}

export async function writeOnlineEpoch(c: DuckDBConnection, view: ResolvedView, epoch: number): Promise<void> {
  await c.run(`UPDATE ${META} SET online_epoch = $1 WHERE view = $2 AND fingerprint = $3`, [BigInt(epoch), view.def.name, view.fingerprint]);
}

export async function writeIncrementalState(c: DuckDBConnection, view: ResolvedView, snapshotId: number, watermark: Micros): Promise<void> {
  await c.run(`UPDATE ${META} SET consumed_snapshot = $1, watermark = $2 WHERE view = $3`, [snapshotId, timestampParam(watermark), view.def.name]);
}

export async function assertMaterialized(c: DuckDBConnection, views: ResolvedView[]): Promise<void> {
  for (const view of views) {
    const rows = (await c.runAndReadAll(`SELECT fingerprint FROM ${META} WHERE view = $1`, [view.def.name])).getRows();
    if (rows.length === 0 || rows[0][0] !== view.fingerprint) {
      throw new FeatureViewNotMaterializedError(
        `feature view ${view.def.name} has no offline rows for its current definition: run featurelake materialize first`,
        { view: view.def.name },
      );
    }
  }
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
