import { DuckDBConnection, DuckDBTimestampValue } from '@duckdb/node-api';
import { DomainError, MaterializationFailedError } from '../common/errors';
import { ResolvedView } from '../core/catalog';
import { EVENT_TIMESTAMP } from '../core/definitions';
import { quoteIdent } from '../core/identifiers';
import { formatTimestamp, Micros } from '../core/timestamp';
import { duckDbType } from '../core/value-types';
import { isEngineResourceError } from '../duckdb/engine-errors';
import { RunControl, stoppedError, watched } from '../duckdb/progress';
import { quoteLiteral, quotePathList } from '../duckdb/sql-text';
import { timestampParam } from '../duckdb/values';
import { checkViewColumns, firstLine } from './view-columns';
import { keyList, sourceRowsSql } from './offline-sql';
import { BUCKET, bucketOf, FROM, VERSION } from './view-sql';

/** Local files of a dataset snapshot, with what the manifest knows of each. */
export interface SourceFile {
  path: string;
  rows: number;
  addedInSnapshot: number;
  /** A compacted file: the earliest snapshot that added any of its rows (absent: addedInSnapshot). */
  firstAddedInSnapshot?: number;
  minTs: Micros | null;
  maxTs: Micros | null;
}

/** What rows one bucket task computes from the source. */
export type RowScope =
  /** Every row with event time ≤ end (a first run, `incremental: full`). */
  | { kind: 'all'; end: Micros }
  /** Rows with event time in [start, end] (materialize START END). */
  | { kind: 'window'; start: Micros; end: Micros }
  /**
   * Incremental: rows of the entities the new files touch (all their history, or from the new
   * data's first event time on when the view declares a lookback), and every row newer than the
   * watermark, up to end.
   */
  | { kind: 'entities'; end: Micros; watermark: Micros; newFiles: string[]; from: Micros | null }
  /**
   * Incremental for a view without `sql` (each source row is a view row): the new files' rows,
   * and the older files' rows newer than the watermark, up to end — appended, replacing nothing.
   */
  | { kind: 'append'; end: Micros; watermark: Micros; newFiles: string[]; olderFiles: string[] };

/** One pass over the source for several buckets that share a plan (the same scope and files). */
export interface BucketWork {
  view: ResolvedView;
  /** The buckets this pass computes, each with the version its new file gets and where to write it. */
  outputs: BucketOutput[];
  /** The view's bucket count (the hash's modulus). */
  buckets: number;
  /** The source files the SQL reads (already narrowed by time where a lookback allows). */
  files: string[];
  /** With a lookback: the dataset's rows before this event time are left out of the SQL's input. */
  inputFrom: Micros | null;
  scope: RowScope;
}

export interface BucketOutput {
  bucket: number;
  version: number;
  dataPath: string;
  sidecarPath: string;
}

export interface BucketWritten {
  rows: number;
  minTs: string | null;
  maxTs: string | null;
  unique: boolean;
  /** Entities listed in the sidecar (incremental scope only). */
  replaced: number;
}

/**
 * Computes the buckets' new rows with the view's SQL over the source files — one scan for all of
 * them — and writes each bucket's, sorted by key and event time, to its `dataPath` (with each
 * row's version and bucket); for an incremental scope, also the sidecar of the entities whose
 * earlier rows they replace. Returns what each file holds, by bucket.
 */
export async function writeBucketRows(c: DuckDBConnection, work: BucketWork, control: RunControl = {}): Promise<Map<number, BucketWritten>> {
  const { view } = work;
  try {
    const replaced = work.scope.kind === 'entities' ? await findAffected(c, work, work.scope.newFiles) : new Map<number, number>();
    if (work.scope.kind === 'append') await exposeAppended(c, view, work.scope);
    else await exposeDataset(c, view, work.files, work.inputFrom);
    const hasCreated = await checkViewColumns(c, view);
    const { where, params } = scopeFilter(work);
    const rows = `SELECT r.*, ${bucketOf(view, work.buckets, 'r')} AS ${BUCKET}
      FROM (${sourceRowsSql(view, hasCreated)}) r WHERE r.${EVENT_TIMESTAMP} IS NOT NULL AND ${bucketOf(view, work.buckets, 'r')} IN (${work.outputs.map((o) => o.bucket).join(', ')}) AND ${where}`;
    // One bucket reads the source straight into its file; several share one scan into a temp table.
    const shared = work.outputs.length > 1;
    if (shared) await watched(c, control, () => c.run(`CREATE OR REPLACE TEMP TABLE bucket_rows AS ${rows}`, params));
    const written = new Map<number, BucketWritten>();
    for (const output of work.outputs) {
      const source = shared ? `SELECT * FROM temp.bucket_rows WHERE ${BUCKET} = ${output.bucket}` : rows;
      const copy = `COPY (SELECT * EXCLUDE (${BUCKET}), ${output.version}::BIGINT AS ${VERSION}, ${output.bucket}::INTEGER AS ${BUCKET} FROM (${source}) ORDER BY ${keyList(view.joinKeys)}, ${EVENT_TIMESTAMP}) TO ${quoteLiteral(output.dataPath)} (FORMAT parquet, COMPRESSION zstd)`;
      await watched(c, control, () => c.run(copy, shared ? [] : params));
      const entities = replaced.get(output.bucket) ?? 0;
      if (entities > 0) await writeSidecar(c, work, output);
      written.set(output.bucket, { ...(await fileStats(c, output.dataPath, view)), replaced: entities });
    }
    if (shared) await c.run('DROP TABLE IF EXISTS temp.bucket_rows');
    return written;
  } catch (error) {
    if (error instanceof DomainError) throw error;
    if (control.signal?.aborted) throw stoppedError(control.signal);
    if (isEngineResourceError(error)) throw error; // named by the database (memory, spill, disk)
    throw new MaterializationFailedError(`feature view ${view.def.name}: ${firstLine(error)}`, { view: view.def.name });
  }
}

async function writeSidecar(c: DuckDBConnection, work: BucketWork, output: BucketOutput): Promise<void> {
  const scope = work.scope as Extract<RowScope, { kind: 'entities' }>;
  const from = scope.from === null ? 'NULL::TIMESTAMP' : `make_timestamp(${scope.from.toString()}::BIGINT)`;
  await c.run(
    `COPY (SELECT ${keyList(work.view.joinKeys)}, ${from} AS ${FROM}, ${output.version}::BIGINT AS ${VERSION} FROM temp.affected WHERE ${BUCKET} = ${output.bucket}) TO ${quoteLiteral(output.sidecarPath)} (FORMAT parquet, COMPRESSION zstd)`,
  );
}

/**
 * The entities of these buckets that the new files touch (keys as the view's SQL yields them
 * over just those files, with their bucket), into temp.affected; returns how many per bucket.
 */
async function findAffected(c: DuckDBConnection, work: BucketWork, newFiles: string[]): Promise<Map<number, number>> {
  const { view } = work;
  if (newFiles.length === 0) {
    const typed = view.joinKeys.map((k) => `NULL::${duckDbType(k.type)} AS ${quoteIdent(k.name)}`).join(', ');
    await c.run(`CREATE OR REPLACE TEMP TABLE affected AS SELECT ${typed}, NULL::INTEGER AS ${BUCKET} WHERE false`);
    return new Map();
  }
  await exposeDataset(c, view, newFiles, null);
  const rows = sourceRowsSql(view, await checkViewColumns(c, view));
  const buckets = work.outputs.map((o) => o.bucket).join(', ');
  await c.run(
    `CREATE OR REPLACE TEMP TABLE affected AS SELECT DISTINCT ${keyList(view.joinKeys)}, ${bucketOf(view, work.buckets, 'r')} AS ${BUCKET} FROM (${rows}) r WHERE ${bucketOf(view, work.buckets, 'r')} IN (${buckets})`,
  );
  const counts = (await c.runAndReadAll(`SELECT ${BUCKET}, count(*) FROM temp.affected GROUP BY ALL`)).getRows();
  return new Map(counts.map(([bucket, n]) => [Number(bucket), Number(n)]));
}

/**
 * The dataset's files as a temporary view named after the dataset, which the view's SQL reads;
 * with `from`, only its rows from that event time on (what a lookback says the SQL needs).
 */
export async function exposeDataset(c: DuckDBConnection, view: ResolvedView, files: string[], from: Micros | null): Promise<void> {
  if (files.length === 0) throw new MaterializationFailedError(`feature view ${view.def.name}: no source files to read`, { view: view.def.name });
  const relation = `SELECT * FROM read_parquet(${quotePathList(files)})`;
  const timestamp = view.dataset.timestampField;
  const narrowed = from !== null && timestamp ? `${relation} WHERE ${quoteIdent(timestamp)} >= make_timestamp(${from.toString()}::BIGINT)` : relation;
  await c.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(view.dataset.name)} AS ${narrowed}`);
}

/** The dataset as an append reads it: the new files whole, the older ones from after the watermark (their time ranges narrowed them already). */
async function exposeAppended(c: DuckDBConnection, view: ResolvedView, scope: Extract<RowScope, { kind: 'append' }>): Promise<void> {
  const parts = scope.newFiles.length > 0 ? [`SELECT * FROM read_parquet(${quotePathList(scope.newFiles)})`] : [];
  const timestamp = quoteIdent(view.dataset.timestampField as string);
  if (scope.olderFiles.length > 0) parts.push(`SELECT * FROM read_parquet(${quotePathList(scope.olderFiles)}) WHERE ${timestamp} > make_timestamp(${scope.watermark.toString()}::BIGINT)`);
  await c.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(view.dataset.name)} AS ${parts.join(' UNION ALL BY NAME ')}`);
}

function scopeFilter(work: BucketWork): { where: string; params: ReturnType<typeof timestampParam>[] } {
  const ts = `r.${EVENT_TIMESTAMP}`;
  const scope = work.scope;
  if (scope.kind === 'all' || scope.kind === 'append') return { where: `${ts} <= $1`, params: [timestampParam(scope.end)] };
  if (scope.kind === 'window') return { where: `${ts} BETWEEN $1 AND $2`, params: [timestampParam(scope.start), timestampParam(scope.end)] };
  const match = work.view.joinKeys.map((k) => `a.${quoteIdent(k.name)} = r.${quoteIdent(k.name)}`).join(' AND ');
  const touched = `EXISTS (SELECT 1 FROM temp.affected a WHERE ${match})${scope.from === null ? '' : ` AND ${ts} >= $3`}`;
  const params = [timestampParam(scope.end), timestampParam(scope.watermark), ...(scope.from === null ? [] : [timestampParam(scope.from)])];
  return { where: `${ts} <= $1 AND (${ts} > $2 OR (${touched}))`, params };
}

async function fileStats(c: DuckDBConnection, path: string, view: ResolvedView): Promise<Omit<BucketWritten, 'replaced'>> {
  const keys = keyList(view.joinKeys);
  const reader = await c.runAndReadAll(
    `SELECT count(*), min(${EVENT_TIMESTAMP}), max(${EVENT_TIMESTAMP}), count(*) = count(DISTINCT (${keys}, ${EVENT_TIMESTAMP})) FROM read_parquet(${quoteLiteral(path)})`,
  );
  const [n, lo, hi, unique] = reader.getRows()[0] as [bigint, DuckDBTimestampValue | null, DuckDBTimestampValue | null, boolean];
  return { rows: Number(n), minTs: lo ? formatTimestamp(lo.micros) : null, maxTs: hi ? formatTimestamp(hi.micros) : null, unique: Number(n) === 0 || unique };
}
