import { ResolvedView } from '../core/catalog';
import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, JoinKeyDef } from '../core/definitions';
import { quoteIdent } from '../core/identifiers';
import { parseTimestamp } from '../core/timestamp';
import { duckDbType } from '../core/value-types';
import { quotePathList } from '../duckdb/sql-text';
import { keyList, tieBreakOrder } from './offline-sql';
import { WindowReplace } from './view-manifest';

/**
 * Pure builders of the SQL over a view's files in the lake (view-manifest.ts). Every name comes
 * from validated definitions and is quoted; times in window predicates are our own integers.
 */

export const VERSION = '__version';
export const BUCKET = '__bucket';
export const FROM = '__from';

/** A fixed value DuckDB's hash gives when it places keys the way this build expects. */
export const HASH_PROBE_SQL = `SELECT hash('featurelake'::VARCHAR, 42::BIGINT)::VARCHAR`;

/** The bucket of a row with the view's keys (as typed in its files), 0 … buckets-1. */
export function bucketOf(view: ResolvedView, buckets: number, alias = ''): string {
  return keyBucketOf(view.joinKeys, buckets, alias);
}

/**
 * The bucket of a row by these keys, 0 … buckets-1 (a spine's rows hash like the view rows that
 * have the same keys). When `parts` divides `buckets`, a row's part is its bucket modulo `parts`.
 */
export function keyBucketOf(joinKeys: JoinKeyDef[], buckets: number, alias = ''): string {
  const keys = joinKeys.map((k) => `CAST(${alias ? `${alias}.` : ''}${quoteIdent(k.name)} AS ${duckDbType(k.type)})`);
  return `(hash(${keys.join(', ')}) % ${buckets})::INTEGER`;
}

/** The stored columns of a view's rows, in file order (without the bookkeeping columns). */
export function rowColumns(view: ResolvedView, alias = ''): string[] {
  const a = alias ? `${alias}.` : '';
  return [...view.joinKeys.map((k) => `${a}${quoteIdent(k.name)}`), `${a}${EVENT_TIMESTAMP}`, `${a}${CREATED_TIMESTAMP}`, ...view.def.features.map((f) => `${a}${quoteIdent(f.name)}`)];
}

/** No rows, with the view's column types: what a view with no files yet reads as. */
export function emptyRowsSql(view: ResolvedView): string {
  const columns = [
    ...view.joinKeys.map((k) => `NULL::${duckDbType(k.type)} AS ${quoteIdent(k.name)}`),
    `NULL::TIMESTAMP AS ${EVENT_TIMESTAMP}`,
    `NULL::TIMESTAMP AS ${CREATED_TIMESTAMP}`,
    ...view.def.features.map((f) => `NULL::${duckDbType(f.type)} AS ${quoteIdent(f.name)}`),
  ];
  return `SELECT ${columns.join(', ')} WHERE false`;
}

export interface MergeInput {
  /** Local paths of the data files. */
  files: string[];
  /** Local paths of the replacement sidecars (keys, __from, __version). */
  sidecars: string[];
  windows: { bucket: number; window: WindowReplace }[];
}

/**
 * The view's current rows over its files: every file's rows, less those a later file replaces
 * (a sidecar entry for the entity from a time on, or a window of the bucket). Plain files read
 * as they are.
 */
export function mergedRowsSql(view: ResolvedView, input: MergeInput): string {
  if (input.files.length === 0) return emptyRowsSql(view);
  const conditions: string[] = [];
  if (input.sidecars.length > 0) {
    const match = view.joinKeys.map((k) => `p.${quoteIdent(k.name)} = r.${quoteIdent(k.name)}`).join(' AND ');
    conditions.push(
      `NOT EXISTS (SELECT 1 FROM read_parquet(${quotePathList(input.sidecars)}) p WHERE p.${VERSION} > r.${VERSION} AND ${match} AND (p.${FROM} IS NULL OR r.${EVENT_TIMESTAMP} >= p.${FROM}))`,
    );
  }
  if (input.windows.length > 0) conditions.push(`NOT (${input.windows.map(({ bucket, window }) => windowPredicate(bucket, window)).join(' OR ')})`);
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  return `SELECT ${rowColumns(view, 'r').join(', ')} FROM read_parquet(${quotePathList(input.files)}) r${where}`;
}

function windowPredicate(bucket: number, window: WindowReplace): string {
  const micros = (iso: string) => `make_timestamp(${(parseTimestamp(iso) as bigint).toString()}::BIGINT)`;
  const parts = [`r.${BUCKET} = ${bucket}`, `r.${VERSION} < ${window.version}`, `r.${EVENT_TIMESTAMP} <= ${micros(window.to)}`];
  if (window.from !== null) parts.push(`r.${EVENT_TIMESTAMP} ${window.fromInclusive ? '>=' : '>'} ${micros(window.from)}`);
  return `(${parts.join(' AND ')})`;
}

/** Keys of the rows (in `files`) that window replacements of a bucket hide: entities whose stored rows they changed. */
export function hiddenByWindowsSql(view: ResolvedView, files: string[], bucket: number, windows: WindowReplace[]): string {
  return `SELECT ${keyList(view.joinKeys, 'r')} FROM read_parquet(${quotePathList(files)}) r WHERE ${windows.map((w) => windowPredicate(bucket, w)).join(' OR ')}`;
}

/** The newest row of each entity in `entities` (a relation of keys), by the same order point-in-time joins use. */
export function latestRowsSql(view: ResolvedView, rows: string, entities: string): string {
  const keys = keyList(view.joinKeys);
  return `SELECT ${rowColumns(view, 't').join(', ')}
    FROM (${rows}) t SEMI JOIN (${entities}) e USING (${keys})
    QUALIFY row_number() OVER (PARTITION BY ${keyList(view.joinKeys, 't')} ORDER BY t.${EVENT_TIMESTAMP} DESC, ${tieBreakOrder(view, 't')}) = 1`;
}
