import { DuckDBConnection } from '@duckdb/node-api';
import { FeatureKind, sturgesBins } from '../../core/skew/drift-tests';
import { FeatureAggregates } from '../../core/skew/distribution';
import { FeatureMatch } from '../../core/skew/schema-skew';
import { CategoryCount, ColumnStats, ConsistencyFeature, Histogram } from '../../core/skew/skew-result';
import { DuckDbDatabase } from '../../duckdb/duckdb-database';
import { quoteName, quotePathList } from '../../duckdb/sql-text';
import { compareServedSql } from './consistency-sql';
import { ServedPair, SideRelation, SkewEngine } from './skew-engine';

const MAX_CATEGORIES = 1000;
const MAX_BINS = 60;
const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const TEMPORAL = /^(TIMESTAMP.*|DATE)$/;
const CATEGORICAL = /^(VARCHAR|BOOLEAN)$/;

/** How a column is compared: numbers (timestamps as epoch seconds) or categories (as text). */
interface Measure {
  kind: FeatureKind;
  ref: string;
  cur: string;
}

/** Skew statistics in DuckDB: each side is a temp view over its Parquet files; JS only sees aggregates. */
export class DuckDbSkewEngine extends SkewEngine {
  constructor(private readonly db: DuckDbDatabase) {
    super();
  }

  async describe(side: SideRelation, signal?: AbortSignal): Promise<{ name: string; type: string }[]> {
    return this.db.withConnection(async (c) => {
      const rows = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${relation(side)}`)).getRowObjectsJS();
      return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    }, signal);
  }

  async count(side: SideRelation, signal?: AbortSignal): Promise<number> {
    return this.db.withConnection(async (c) => Number((await c.runAndReadAll(`SELECT count(*) FROM ${relation(side)}`)).getRows()[0][0]), signal);
  }

  async aggregates(reference: SideRelation, current: SideRelation, matches: FeatureMatch[], signal?: AbortSignal): Promise<(FeatureAggregates | null)[]> {
    return this.db.withConnection(async (c) => {
      await c.run(`CREATE OR REPLACE TEMP VIEW skew_ref AS SELECT * FROM ${relation(reference)}`);
      await c.run(`CREATE OR REPLACE TEMP VIEW skew_cur AS SELECT * FROM ${relation(current)}`);
      const results: (FeatureAggregates | null)[] = [];
      for (const match of matches) results.push(await featureAggregates(c, match));
      return results;
    }, signal);
  }

  async compareServed(file: string, pairs: ServedPair[], keys: string[], timeColumn: string, threshold: number, signal?: AbortSignal): Promise<ConsistencyFeature[]> {
    return this.db.withConnection(async (c) => {
      await c.run(`CREATE OR REPLACE TEMP VIEW served AS SELECT * FROM read_parquet(${quotePathList([file])})`);
      const out: ConsistencyFeature[] = [];
      for (const pair of pairs) {
        const { counts, examples } = compareServedSql(pair, keys, timeColumn);
        const [row] = (await c.runAndReadAll(counts)).getRowObjectsJS();
        const rows = Number(row.rows);
        const compared = Number(row.compared);
        const mismatches = Number(row.mismatches);
        const missing = Number(row.missing);
        const extra = Number(row.extra);
        const inconsistent = rows === 0 ? 0 : (mismatches + missing + extra) / rows;
        const sample = mismatches + missing + extra === 0 ? [] : (await c.runAndReadAll(examples)).getRowObjectsJson();
        out.push({
          feature: pair.feature,
          type: pair.type,
          rows,
          compared,
          mismatches,
          missing,
          extra,
          mismatch_rate: compared === 0 ? 0 : mismatches / compared,
          inconsistent_rate: inconsistent,
          smape: row.smape === null || row.smape === undefined ? null : Number(row.smape),
          passed: inconsistent <= threshold,
          examples: sample.map((r) => ({
            keys: Object.fromEntries(keys.map((k) => [k, r[k]])),
            request_time: String(r.__time),
            served: r.__served,
            offline: r.__offline,
          })),
        });
      }
      return out;
    }, signal);
  }
}

/** A side as a subquery; window bounds are our own integers (microseconds), never user text. */
export function relation(side: SideRelation): string {
  const conditions: string[] = [];
  if (side.window) {
    const column = quoteName(side.window.column);
    if (side.window.start !== undefined) conditions.push(`${column} >= make_timestamp(${side.window.start.toString()}::BIGINT)`);
    if (side.window.end !== undefined) conditions.push(`${column} <= make_timestamp(${side.window.end.toString()}::BIGINT)`);
  }
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  return `(SELECT * FROM read_parquet(${quotePathList(side.files)}, union_by_name = true)${where})`;
}

function measureOf(match: FeatureMatch): Measure | null {
  const expression = (column: string, type: string): [FeatureKind, string] | null => {
    const name = quoteName(column);
    if (NUMERIC.test(type)) return ['numerical', `CAST(${name} AS DOUBLE)`];
    if (TEMPORAL.test(type)) return ['numerical', `epoch(${name})::DOUBLE`];
    if (CATEGORICAL.test(type)) return ['categorical', `CAST(${name} AS VARCHAR)`];
    return null;
  };
  const ref = expression(match.reference.column, match.reference.type);
  const cur = expression(match.current.column, match.current.type);
  // Sides of different kinds (a number against text) have no common distribution: schema skew reports the type change.
  if (!ref || !cur || ref[0] !== cur[0]) return null;
  return { kind: ref[0], ref: ref[1], cur: cur[1] };
}

async function featureAggregates(c: DuckDBConnection, match: FeatureMatch): Promise<FeatureAggregates | null> {
  const measure = measureOf(match);
  if (!measure) return null;
  const reference = await columnStats(c, 'skew_ref', measure.ref, measure.kind);
  const current = await columnStats(c, 'skew_cur', measure.cur, measure.kind);
  // Conditions repeat the expressions: an alias in WHERE would lose to a data column of the same name.
  const union = `(SELECT ${measure.ref} AS x, 0 AS s FROM skew_ref WHERE ${measure.ref} IS NOT NULL UNION ALL SELECT ${measure.cur} AS x, 1 AS s FROM skew_cur WHERE ${measure.cur} IS NOT NULL)`;
  const distinctUnion = Number((await c.runAndReadAll(`SELECT count(DISTINCT x) FROM ${union}`)).getRows()[0][0]);
  const numerical = measure.kind === 'numerical';
  const asCategories = !numerical || distinctUnion <= 5;
  return {
    feature: match.feature,
    kind: measure.kind,
    referenceType: match.reference.type,
    currentType: match.current.type,
    reference,
    current,
    distinctUnion,
    ks: numerical ? await ksAndWasserstein(c, union) : null,
    histogram: numerical && !asCategories ? await histogram(c, union, reference, current) : null,
    categories: asCategories ? await categories(c, union) : null,
    newCategories: numerical ? null : await newCategories(c, measure),
  };
}

async function columnStats(c: DuckDBConnection, view: string, expr: string, kind: FeatureKind): Promise<ColumnStats> {
  const numeric = kind === 'numerical' ? `, avg(${expr}) AS mean, stddev_pop(${expr}) AS std, quantile_cont(${expr}, [0.05, 0.25, 0.5, 0.75, 0.95]) AS q` : '';
  const [row] = (await c.runAndReadAll(`SELECT count(*) AS n, count(${expr}) AS nn, count(DISTINCT ${expr}) AS d, min(${expr}) AS lo, max(${expr}) AS hi${numeric} FROM ${view}`)).getRowObjectsJS();
  const count = Number(row.n);
  const nulls = count - Number(row.nn);
  const q = row.q as number[] | null | undefined;
  const scalar = (v: unknown) => (v === null || v === undefined ? null : kind === 'numerical' ? Number(v) : String(v));
  return {
    count,
    nulls,
    null_rate: count === 0 ? 0 : nulls / count,
    distinct: Number(row.d),
    mean: kind === 'numerical' ? (scalar(row.mean) as number | null) : null,
    std: kind === 'numerical' ? (scalar(row.std) as number | null) : null,
    min: scalar(row.lo),
    max: scalar(row.hi),
    quantiles: q ? { p05: Number(q[0]), p25: Number(q[1]), p50: Number(q[2]), p75: Number(q[3]), p95: Number(q[4]) } : null,
  };
}

/** K-S statistic (largest gap of the two empirical CDFs) and Wasserstein-1 (area between them), in one pass over the sorted values. */
async function ksAndWasserstein(c: DuckDBConnection, union: string): Promise<{ d: number; wasserstein: number } | null> {
  const sql = `
    WITH v AS (SELECT x, count(*) FILTER (WHERE s = 0) AS r, count(*) FILTER (WHERE s = 1) AS k FROM ${union} GROUP BY x),
    cdf AS (
      SELECT x, lead(x) OVER (ORDER BY x) AS nx,
             sum(r) OVER w / sum(r) OVER () AS fr, sum(k) OVER w / sum(k) OVER () AS fk
      FROM v WINDOW w AS (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
    SELECT max(abs(fr - fk)) AS d, coalesce(sum(abs(fr - fk) * (nx - x)), 0) AS w FROM cdf`;
  const [row] = (await c.runAndReadAll(sql)).getRowObjectsJS();
  if (row.d === null || row.d === undefined) return null;
  return { d: Number(row.d), wasserstein: Number(row.w) };
}

/** Shared equal-width bins over both sides (Sturges' count, as numpy), so the two distributions overlay. */
async function histogram(c: DuckDBConnection, union: string, reference: ColumnStats, current: ColumnStats): Promise<Histogram | null> {
  const mins = [reference.min, current.min].filter((v): v is number => typeof v === 'number');
  const maxs = [reference.max, current.max].filter((v): v is number => typeof v === 'number');
  if (mins.length === 0) return null;
  let lo = Math.min(...mins);
  let hi = Math.max(...maxs);
  const n = reference.count - reference.nulls + current.count - current.nulls;
  let bins = Math.min(MAX_BINS, sturgesBins(n));
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
    bins = 1;
  }
  const width = (hi - lo) / bins;
  const rows = (
    await c.runAndReadAll(`SELECT s, least(greatest(floor((x - $1) / $2), 0), $3 - 1)::INTEGER AS b, count(*) AS n FROM ${union} GROUP BY ALL`, [lo, width, bins])
  ).getRowObjectsJS();
  const counts = { reference: new Array<number>(bins).fill(0), current: new Array<number>(bins).fill(0) };
  for (const row of rows) (Number(row.s) === 0 ? counts.reference : counts.current)[Number(row.b)] = Number(row.n);
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), ...counts };
}

/** Counts per value on both sides, most frequent first; past 999 values, the rest are one "(other)" row. */
async function categories(c: DuckDBConnection, union: string): Promise<CategoryCount[]> {
  const sql = `
    WITH j AS (SELECT CAST(x AS VARCHAR) AS v, count(*) FILTER (WHERE s = 0) AS r, count(*) FILTER (WHERE s = 1) AS k FROM ${union} GROUP BY 1),
    ranked AS (SELECT *, row_number() OVER (ORDER BY r + k DESC, v) AS rank FROM j)
    SELECT CASE WHEN rank < ${MAX_CATEGORIES} THEN v END AS value, sum(r) AS r, sum(k) AS k, min(rank) AS rank
    FROM ranked GROUP BY 1 ORDER BY rank`;
  const rows = (await c.runAndReadAll(sql)).getRowObjectsJS();
  return rows.map((r) => ({ value: r.value === null ? '(other)' : String(r.value), reference: Number(r.r), current: Number(r.k) }));
}

async function newCategories(c: DuckDBConnection, measure: Measure): Promise<{ count: number; examples: string[] }> {
  const sql = `
    WITH fresh AS (SELECT DISTINCT ${measure.cur} AS v FROM skew_cur WHERE ${measure.cur} IS NOT NULL EXCEPT SELECT DISTINCT ${measure.ref} FROM skew_ref)
    SELECT count(*) AS n, (SELECT list(v ORDER BY v) FROM (SELECT v FROM fresh ORDER BY v LIMIT 5)) AS examples FROM fresh`;
  const [row] = (await c.runAndReadAll(sql)).getRowObjectsJS();
  return { count: Number(row.n), examples: ((row.examples as string[] | null) ?? []).map(String) };
}
