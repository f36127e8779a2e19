import { ResolvedView } from '../core/catalog';
import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, JoinKeyDef } from '../core/definitions';
import { quoteIdent } from '../core/identifiers';
import { duckDbType } from '../core/value-types';
import { quoteName } from '../duckdb/sql-text';

/**
 * Pure builders of the SQL the DuckDB offline store runs. Every name comes from validated
 * definitions and is quoted; every value (timestamps) is a bound parameter ($1, $2).
 */

/**
 * The view's rows straight from its source: its own `sql`, or, without one, the join keys,
 * the dataset's timestamp fields and the feature columns as they are.
 */
export function viewQuery(view: ResolvedView): string {
  if (view.def.sql) return view.def.sql.trim().replace(/;\s*$/, '');
  const { dataset } = view;
  const created = dataset.createdTimestampField ? `${quoteName(dataset.createdTimestampField)} AS ${CREATED_TIMESTAMP}` : null;
  const columns = [
    ...view.joinKeys.map((k) => quoteIdent(k.name)),
    `${quoteName(dataset.timestampField as string)} AS ${EVENT_TIMESTAMP}`,
    ...(created ? [created] : []),
    ...view.def.features.map((f) => quoteIdent(f.name)),
  ];
  return `SELECT ${columns.join(', ')} FROM ${quoteIdent(dataset.name)}`;
}

/**
 * Among rows with equal keys and event time, which one counts: the latest created timestamp,
 * then the feature values as a last, arbitrary but stable tie-break. Offline joins and online
 * materialization use the same order, so both pick the same row.
 */
export function tieBreakOrder(view: ResolvedView, alias = ''): string {
  const prefix = alias ? `${alias}.` : '';
  return [
    `${prefix}${CREATED_TIMESTAMP} DESC NULLS LAST`,
    ...view.def.features.map((f) => `${prefix}${quoteIdent(f.name)} DESC NULLS LAST`),
  ].join(', ');
}

export function keyList(keys: readonly JoinKeyDef[], alias = ''): string {
  return keys.map((k) => `${alias ? `${alias}.` : ''}${quoteIdent(k.name)}`).join(', ');
}

/** The view's rows from its source, cast to the declared types, keys not null: the table's shape. */
export function sourceRowsSql(view: ResolvedView, hasCreated: boolean): string {
  const cast = (name: string, type: string) => `CAST(src.${quoteIdent(name)} AS ${type}) AS ${quoteIdent(name)}`;
  const columns = [
    ...view.joinKeys.map((k) => cast(k.name, duckDbType(k.type))),
    `CAST(src.${EVENT_TIMESTAMP} AS TIMESTAMP) AS ${EVENT_TIMESTAMP}`,
    hasCreated ? `CAST(src.${CREATED_TIMESTAMP} AS TIMESTAMP) AS ${CREATED_TIMESTAMP}` : `NULL::TIMESTAMP AS ${CREATED_TIMESTAMP}`,
    ...view.def.features.map((f) => cast(f.name, duckDbType(f.type))),
  ];
  const keysPresent = view.joinKeys.map((k) => `src.${quoteIdent(k.name)} IS NOT NULL`).join(' AND ');
  return `SELECT ${columns.join(', ')} FROM (${viewQuery(view)}) AS src WHERE ${keysPresent}`;
}

