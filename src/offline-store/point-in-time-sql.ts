import { ResolvedView } from '../core/catalog';
import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, FeatureDef } from '../core/definitions';
import { OutputColumn } from '../core/feature-selection';
import { quoteIdent } from '../core/identifiers';
import { quoteName } from '../duckdb/sql-text';
import { keyList, tieBreakOrder } from './offline-sql';

export const ROW_ID = '__row_id';
export const SPINE = 'spine';

export interface JoinedView {
  view: ResolvedView;
  features: FeatureDef[];
  /** The relation holding the view's rows (its offline table, or a table rebuilt from lake snapshots). */
  table: string;
  /** False when (keys, event time) is known to be unique in `table`: the tie-breaking pass is skipped. */
  dedup: boolean;
}

export interface PointInTimeQuery {
  /** Spine columns to return (join keys, event_timestamp, any others), in output order. */
  spineColumns: string[];
  /** The relation holding the spine (`spine` unless one part of it is joined). */
  spine?: string;
  /** Also return `__row_id` (a part's rows are merged with the others' in input order). */
  withRowId?: boolean;
  views: JoinedView[];
  columns: OutputColumn[];
  /** Also return, per view, the event timestamp of the matched row (`__ts_<i>`), for statuses. */
  withMatchTimestamps: boolean;
  /**
   * Only rows created at or before the entity row's time count (a row without a created time
   * counts as created at its event time): a backfill written later cannot leak into the past.
   */
  createdBeforeEvent: boolean;
}

/**
 * Feast's point-in-time join as one DuckDB query over the spine table
 * (`__row_id`, join keys, `event_timestamp`):
 *  - per view, rows with equal keys and event time collapse to the one with the latest
 *    created timestamp (tieBreakOrder), unless they are known to be unique;
 *  - ASOF LEFT JOIN picks, per spine row, the latest row with row time ≤ spine time;
 *  - the ttl bound (row time ≥ spine time − ttl, inclusive) is applied after the match,
 *    since DuckDB allows one inequality in an ASOF condition; a match outside it is null;
 *  - with createdBeforeEvent, a range join ranks the candidates instead, because the created-time
 *    bound is a second inequality that ASOF cannot take;
 *  - every spine row comes back exactly once, in spine order.
 */
export function pointInTimeSql(query: PointInTimeQuery): string {
  const spine = query.spine ?? SPINE;
  const selects = [
    ...(query.withRowId ? [`s.${ROW_ID}`] : []),
    ...query.spineColumns.map((name) => `s.${quoteName(name)}`),
    ...query.columns.map((c) => featureSelect(c, query.views)),
    ...(query.withMatchTimestamps ? query.views.map((j, i) => `${matchedTs(j, i)} AS __ts_${i}`) : []),
  ];
  if (query.createdBeforeEvent) {
    const ctes = query.views.map((joined, i) => rangeCte(joined, i, spine));
    const joins = query.views.map((_, i) => `LEFT JOIN m${i} ON m${i}.${ROW_ID} = s.${ROW_ID}`);
    return `WITH ${ctes.join(',\n')}\nSELECT ${selects.join(', ')}\nFROM ${spine} s\n${joins.join('\n')}\nORDER BY s.${ROW_ID}`;
  }
  // One pass: the spine ASOF-joined to each view in turn (no join back on the row id).
  const ctes = query.views.map((joined, i) => `m${i} AS (\n  ${viewRows(joined)}\n)`);
  const joins = query.views.map(({ view }, i) => {
    const on = view.joinKeys.map((k) => `s.${quoteIdent(k.name)} = m${i}.${quoteIdent(k.name)}`);
    return `ASOF LEFT JOIN m${i} ON ${on.join(' AND ')} AND s.${EVENT_TIMESTAMP} >= m${i}.__ts`;
  });
  return `WITH ${ctes.join(',\n')}\nSELECT ${selects.join(', ')}\nFROM ${spine} s\n${joins.join('\n')}\nORDER BY s.${ROW_ID}`;
}

/** A view's candidate rows: (keys, event time) made unique by the tie-break, unless known unique. */
function viewRows({ view, features, table, dedup }: JoinedView): string {
  const keys = keyList(view.joinKeys);
  const columns = `${keys}, ${EVENT_TIMESTAMP} AS __ts, ${features.map((f) => quoteIdent(f.name)).join(', ')}`;
  if (!dedup) return `SELECT ${columns} FROM ${table}`;
  return `SELECT ${columns} FROM ${table}
  QUALIFY row_number() OVER (PARTITION BY ${keys}, ${EVENT_TIMESTAMP} ORDER BY ${tieBreakOrder(view)}) = 1`;
}

/** Candidates by a range join (row time and created time both ≤ entity time), best one kept. */
function rangeCte({ view, features, table }: JoinedView, i: number, spine: string): string {
  const featureCols = features.map((f) => quoteIdent(f.name));
  const on = view.joinKeys.map((k) => `s.${quoteIdent(k.name)} = f.${quoteIdent(k.name)}`);
  return `m${i} AS (
  SELECT s.${ROW_ID}, f.${EVENT_TIMESTAMP} AS __ts, ${featureCols.map((c) => `f.${c}`).join(', ')}
  FROM ${spine} s JOIN ${table} f ON ${on.join(' AND ')}
    AND f.${EVENT_TIMESTAMP} <= s.${EVENT_TIMESTAMP}
    AND coalesce(f.${CREATED_TIMESTAMP}, f.${EVENT_TIMESTAMP}) <= s.${EVENT_TIMESTAMP}
  QUALIFY row_number() OVER (PARTITION BY s.${ROW_ID} ORDER BY f.${EVENT_TIMESTAMP} DESC, ${tieBreakOrder(view, 'f')}) = 1
)`;
}

/** The matched row's time when it lies within the ttl, else NULL. */
function matchedTs({ view }: JoinedView, i: number): string {
  const ttl = view.def.ttlSeconds;
  if (ttl === null) return `m${i}.__ts`;
  return `CASE WHEN m${i}.__ts >= s.${EVENT_TIMESTAMP} - to_seconds(${Math.trunc(ttl)}) THEN m${i}.__ts END`;
}

function featureSelect(column: OutputColumn, views: JoinedView[]): string {
  const i = views.findIndex((v) => v.view.def.name === column.viewName);
  const value = `m${i}.${quoteIdent(column.feature.name)}`;
  const ttl = views[i].view.def.ttlSeconds;
  const guarded = ttl === null ? value : `CASE WHEN m${i}.__ts >= s.${EVENT_TIMESTAMP} - to_seconds(${Math.trunc(ttl)}) THEN ${value} END`;
  return `${guarded} AS ${quoteName(column.name)}`;
}
