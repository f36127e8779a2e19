import { DuckDBConnection } from '@duckdb/node-api';
import { FeatureViewSqlError } from '../common/errors';
import { ResolvedView } from '../core/catalog';
import { CREATED_TIMESTAMP, EVENT_TIMESTAMP } from '../core/definitions';
import { viewQuery } from './offline-sql';

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

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
