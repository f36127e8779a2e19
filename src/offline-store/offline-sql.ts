import { ResolvedView } from '../core/catalog';
import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, JoinKeyDef } from '../core/definitions';
import { quoteIdent } from '../core/identifiers';
import { Micros } from '../core/timestamp';
import { duckDbType } from '../core/value-types';
import { quoteName } from '../duckdb/sql-text';

/**
 * Pure builders of the SQL the DuckDB offline store runs. Every name comes from validated
 * definitions and is quoted; every value (timestamps) is a bound parameter ($1, $2).
 */

export const FEATURE_SCHEMA = 'features';
export const META_SCHEMA = 'featurelake_meta';

export function tableName(view: ResolvedView): string {
  return `${FEATURE_SCHEMA}.${quoteIdent(view.def.name)}`;
}

export function createTableSql(view: ResolvedView): string {
  const columns = [
    ...view.joinKeys.map((k) => `${quoteIdent(k.name)} ${duckDbType(k.type)} NOT NULL`),
    `${EVENT_TIMESTAMP} TIMESTAMP NOT NULL`,
    `${CREATED_TIMESTAMP} TIMESTAMP`,
    ...view.def.features.map((f) => `${quoteIdent(f.name)} ${duckDbType(f.type)}`),
  ];
  return `CREATE TABLE ${tableName(view)} (${columns.join(', ')})`;
}

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

export const AFFECTED = 'temp.affected';

/**
 * Which stored rows a materialization replaces, as a predicate over a relation with the table's
 * columns (`alias`), and its bound parameters:
 *  - window: event time in [start, end];
 *  - all: event time ≤ end (a view's first incremental run, or `incremental: full`);
 *  - entities: event time ≤ end, and either newer than the last run's end or belonging to an
 *    entity that the newly arrived data touches (the keys in temp.affected).
 */
export type RecomputeScope =
  | { kind: 'window'; start: Micros; end: Micros }
  | { kind: 'all'; end: Micros }
  | { kind: 'entities'; end: Micros; watermark: Micros };

export function scopePredicate(view: ResolvedView, scope: RecomputeScope, alias: string): string {
  const ts = `${alias}.${EVENT_TIMESTAMP}`;
  if (scope.kind === 'window') return `${ts} BETWEEN $1 AND $2`;
  if (scope.kind === 'all') return `${ts} <= $1`;
  const match = view.joinKeys.map((k) => `a.${quoteIdent(k.name)} = ${alias}.${quoteIdent(k.name)}`).join(' AND ');
  return `${ts} <= $1 AND (${ts} > $2 OR EXISTS (SELECT 1 FROM ${AFFECTED} a WHERE ${match}))`;
}

export function scopeParams(scope: RecomputeScope): Micros[] {
  if (scope.kind === 'window') return [scope.start, scope.end];
  if (scope.kind === 'all') return [scope.end];
  return [scope.end, scope.watermark];
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

export function insertScopeSql(view: ResolvedView, hasCreated: boolean, scope: RecomputeScope): string {
  return `INSERT INTO ${tableName(view)} SELECT * FROM (${sourceRowsSql(view, hasCreated)}) AS r
    WHERE r.${EVENT_TIMESTAMP} IS NOT NULL AND ${scopePredicate(view, scope, 'r')}`;
}

export function deleteScopeSql(view: ResolvedView, scope: RecomputeScope): string {
  return `DELETE FROM ${tableName(view)} AS t WHERE ${scopePredicate(view, scope, 't')}`;
}

/** The distinct (typed) entity keys that the view's SQL yields over the current temp view of its dataset. */
export function affectedKeysSql(view: ResolvedView): string {
  const keys = keyList(view.joinKeys);
  return `CREATE OR REPLACE TEMP TABLE affected AS SELECT DISTINCT ${keys} FROM (${sourceRowsSql(view, false)}) AS r`;
}

export function pendingTableName(view: ResolvedView): string {
  return `${FEATURE_SCHEMA}.${quoteName(`${view.def.name}__pending`)}`;
}

export const PENDING_SEQUENCE = `${META_SCHEMA}.pending_seq`;

/**
 * Entities whose online value must be (re)written, filled in the same transaction as the
 * table. An entity may be listed more than once; there is deliberately no key index, which
 * would make clearing a million entries take seconds.
 */
export function createPendingTableSql(view: ResolvedView): string {
  const keys = view.joinKeys.map((k) => `${quoteIdent(k.name)} ${duckDbType(k.type)} NOT NULL`);
  return `CREATE TABLE ${pendingTableName(view)} (${keys.join(', ')}, __seq BIGINT NOT NULL)`;
}

/** Marks as pending every entity with a stored row in the scope. */
export function markPendingSql(view: ResolvedView, scope: RecomputeScope): string {
  const keys = keyList(view.joinKeys);
  return `INSERT INTO ${pendingTableName(view)}
    SELECT ${keys}, nextval('${PENDING_SEQUENCE}') FROM (SELECT DISTINCT ${keyList(view.joinKeys, 't')} FROM ${tableName(view)} AS t WHERE ${scopePredicate(view, scope, 't')})`;
}

/** Marks every entity of the view pending: its whole online table is written again from the offline one. */
export function markAllPendingSql(view: ResolvedView): string {
  const keys = keyList(view.joinKeys);
  return `INSERT INTO ${pendingTableName(view)} SELECT ${keys}, nextval('${PENDING_SEQUENCE}') FROM (SELECT DISTINCT ${keys} FROM ${tableName(view)})`;
}

export function pendingCountSql(view: ResolvedView): string {
  return `SELECT count(*) FROM (SELECT DISTINCT ${keyList(view.joinKeys)} FROM ${pendingTableName(view)})`;
}

/**
 * The newest stored row of each entity pending with __seq ≤ $1, for the entities in hash
 * partition $3 of $2 (in no particular order). Reading pending entities a partition at a time
 * keeps DuckDB's working set (the distinct keys, the join, the window) a fixed size however
 * large the view.
 */
export function pendingLatestSql(view: ResolvedView): string {
  const keys = keyList(view.joinKeys);
  const columns = [keyList(view.joinKeys, 't'), `t.${EVENT_TIMESTAMP}`, `t.${CREATED_TIMESTAMP}`, ...view.def.features.map((f) => `t.${quoteIdent(f.name)}`)];
  return `SELECT ${columns.join(', ')}
    FROM (SELECT DISTINCT ${keys} FROM ${pendingTableName(view)} WHERE __seq <= $1 AND hash(${keys}) % $2 = $3) AS p
    JOIN ${tableName(view)} AS t USING (${keys})
    QUALIFY row_number() OVER (PARTITION BY ${keyList(view.joinKeys, 't')} ORDER BY t.${EVENT_TIMESTAMP} DESC, ${tieBreakOrder(view, 't')}) = 1`;
}
