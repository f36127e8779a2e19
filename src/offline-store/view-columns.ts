import { DuckDBConnection } from '@duckdb/node-api';
import { FeatureViewSqlError } from '../common/errors';
import { ResolvedView } from '../core/catalog';
import { CREATED_TIMESTAMP, EVENT_TIMESTAMP } from '../core/definitions';
import { viewQuery } from './offline-sql';

/** Checks the view's SQL returns what the view declares; returns whether it has created_timestamp. */
export async function checkViewColumns(c: DuckDBConnection, view: ResolvedView): Promise<boolean> {
  let names: string[];
  try {
    names = await viewColumnNames(c, view);
  } catch (error) {
    throw new FeatureViewSqlError(`feature view ${view.def.name}: its sql fails: ${firstLine(error)}`, { view: view.def.name });
  }
  const missing = missingViewColumns(view, names);
  if (missing.length > 0) {
    throw new FeatureViewSqlError(
      `feature view ${view.def.name}: its sql returns no column ${missing.join(', ')} (it returns ${names.join(', ')})`,
      { view: view.def.name, missing },
    );
  }
  return names.includes(CREATED_TIMESTAMP);
}

/** The columns the view's query returns, with DuckDB's types (DuckDB binds it; nothing is read). */
export async function viewColumns(c: DuckDBConnection, view: ResolvedView): Promise<{ name: string; type: string }[]> {
  const reader = await c.runAndReadAll(`DESCRIBE SELECT * FROM (${viewQuery(view)}) AS src`);
  return reader.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

async function viewColumnNames(c: DuckDBConnection, view: ResolvedView): Promise<string[]> {
  return (await viewColumns(c, view)).map((col) => col.name);
}

/** The join keys, event time and features the view declares that `names` lacks. */
export function missingViewColumns(view: ResolvedView, names: readonly string[]): string[] {
  const needed = [...view.joinKeys.map((k) => k.name), EVENT_TIMESTAMP, ...view.def.features.map((f) => f.name)];
  return needed.filter((n) => !names.includes(n));
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
