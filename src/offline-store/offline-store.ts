import { ResolvedView } from '../core/catalog';
import { DatasetDef, JoinKeyDef } from '../core/definitions';
import { EntityRows, ExtraColumn } from '../core/entity-rows';
import { FeatureSelection, OutputColumn } from '../core/feature-selection';
import { OnlineRecord } from '../core/online-record';
import { Micros } from '../core/timestamp';
import { Value } from '../core/value-types';
import { FileFormat } from '../lake/dataset-manifest';

/** A dataset snapshot's data, as local Parquet files. */
export interface SourceData {
  dataset: DatasetDef;
  files: string[];
}

export const FILTER_OPS = ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'is null', 'is not null'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** A condition on a dataset column, given as data: the column is checked against the schema and the value bound. */
export interface RowFilter {
  column: string;
  op: FilterOp;
  value?: unknown;
}

/**
 * Entity rows for a point-in-time join:
 *  - rows: in memory (a JSON request);
 *  - file: a Parquet, CSV or JSON Lines file, read by the engine (other columns ride along);
 *  - dataset: the rows of a lake dataset snapshot, narrowed by a time range and filters; its
 *    timestamp column becomes event_timestamp and join keys may be mapped from other columns;
 *  - range: no entity rows: every entity's feature rows with event time in [start, end].
 */
export type Spine =
  | { kind: 'rows'; rows: EntityRows }
  | { kind: 'file'; path: string; format: FileFormat; name: string }
  | {
      kind: 'dataset';
      name: string;
      files: string[];
      timestampColumn: string;
      /** join key → dataset column, for keys the dataset names differently. */
      keyColumns: Record<string, string>;
      start?: Micros;
      end?: Micros;
      filters: RowFilter[];
    }
  | { kind: 'range'; start: Micros; end: Micros };

/** Where the views' rows come from: their offline tables (the current state), or recomputed from given lake files (a reproducible build). */
export type FeatureSource = { kind: 'offline' } | { kind: 'snapshots'; sources: Map<string, SourceData> };

export interface HistoricalQuery {
  spine: Spine;
  selection: FeatureSelection;
  /** Only rows created at or before the entity row's time (see PointInTimeQuery). */
  createdBeforeEvent?: boolean;
  features?: FeatureSource;
  /** At most this many entity rows, whatever their source (ROW_LIMIT_EXCEEDED naming limits.max_entity_rows); unbounded when absent. */
  maxEntityRows?: number;
  /** Only this part of the spine (the result then carries `__row_id`, for mergeParts). */
  part?: JoinPart;
  /**
   * Write times as naive TIMESTAMPs, as results were before they said UTC: only to rebuild a
   * training set saved then (metadata format 1) byte for byte.
   */
  naiveTimestamps?: boolean;
}

/**
 * One of `count` parts of a join: the spine rows whose hash of `keys` (the first selected view's
 * join keys) modulo `count` is `index`. The parts of a spine are disjoint and cover it, so the
 * parts joined apart and merged by row id give the whole join. A view keyed by the same keys,
 * with a bucket count that `count` divides, is read from just the buckets of the part.
 */
export interface JoinPart {
  index: number;
  count: number;
  keys: JoinKeyDef[];
}

/** How a query's engine work is bounded: stopped by `signal`, and its result file by `maxResultBytes` (RESULT_LIMIT_EXCEEDED). */
export interface QueryControl {
  signal?: AbortSignal;
  maxResultBytes?: number;
}

/** The columns of a written result, in order, as DuckDB types them. */
export interface ResultFile {
  rows: number;
  columns: { name: string; type: string }[];
}

/** A point-in-time result, column-major, rows in spine order. */
export interface HistoricalColumns {
  entityColumns: { key: JoinKeyDef; values: Value[] }[];
  /** The entity rows' other columns (labels), as given. */
  extraColumns: ExtraColumn[];
  eventTimestamps: Micros[];
  features: { column: OutputColumn; values: Value[]; matchedAt: (Micros | null)[] }[];
}

export type OutputFormat = 'parquet' | 'csv' | 'json';

export type { EngineProgress, RunControl } from '../duckdb/progress';
import type { RunControl } from '../duckdb/progress';

/** A dataset snapshot as materialization reads it: every file, with what its manifest entry says. */
export interface SourceSnapshot {
  dataset: DatasetDef;
  snapshotId: number;
  files: SourceFile[];
  /** The latest snapshot that took files away (a rollback): a bucket that consumed one before it recomputes everything. */
  lastRewrite?: number | null;
}
export type { SourceFile } from './bucket-work';
import type { SourceFile } from './bucket-work';

/** How incremental materialization finds the rows that new data changes (feature view `incremental:`). */
export type IncrementalMode = 'entities' | 'full';

/** What a bucket task recomputes: a window of event time, or what the lake added since the bucket's last run. */
/** What a job asks of a view's buckets; `jobId` lets a task that runs again after its worker died count what the first try committed. */
export type BucketRequest = ({ kind: 'window'; start: Micros; end: Micros } | { kind: 'incremental'; end: Micros; mode: IncrementalMode }) & { jobId?: string };

export interface ViewState {
  /** Hash buckets of the view's offline rows (the configured default until its first write). */
  buckets: number;
  /** The oldest dataset snapshot consumed by every bucket (null: a bucket has none yet). */
  consumedSnapshot: number | null;
  /** The event time every bucket is complete up to (null: none yet). */
  watermark: Micros | null;
  /** Buckets whose newest rows are not all written online yet. */
  pendingBuckets: number;
  /** Whether any bucket holds rows (an offline-only view's rows are never pending online). */
  hasRows: boolean;
  /**
   * The online store's epoch for this view after the last run that wrote it (null: never). The
   * online store keeps the same number as its marker; a store that answers less, or nothing,
   * lost data since (OnlineStore.readEpoch).
   */
  onlineEpoch: number | null;
}

export interface BucketRun {
  rowsWritten: number;
  /** Source rows of files the bucket had not consumed. */
  newRows: number;
  note?: string;
}

/**
 * Newest rows of pending entities. `ack` must be awaited after the batch has been written
 * online; it may clear more than this batch (the final batch's clears everything it streamed).
 */
export interface PendingBatch {
  records: OnlineRecord[];
  ack(): Promise<void>;
}

/**
 * Feature views' rows over time, derived from the lake and kept in it (Parquet files per hash
 * bucket of the entity key, view-manifest.ts), so that any process can read and write them; the
 * source of training sets and of what materialization pushes online. Timestamps are UTC
 * microseconds; windows are inclusive at both ends, like Feast's.
 *
 * Invariant kept by every write: entities whose rows change are marked pending in the same
 * commit, and stay pending until their newest row has been written online (`ack`), so a task
 * that fails or is killed between the stores leaves work that the next run finishes.
 */
export abstract class OfflineStore {
  /** The view's state across its buckets. */
  abstract viewState(view: ResolvedView): Promise<ViewState>;

  /**
   * Recomputes buckets of the view from `source` and commits them: a window (materialize START
   * END: the rows with event time in it are replaced), or incrementally — what the lake added
   * since each bucket's last run (late events included; a view with `lookback` reads only from
   * the new data's first event time minus the lookback), plus every row newer than the bucket's
   * watermark. Buckets in the same state share one pass over the source and one commit. Throws
   * FEATURE_VIEW_SQL_INVALID when the SQL does not return the keys, event_timestamp and
   * features; MATERIALIZATION_FAILED when the data does not fit the declared types;
   * COMMIT_CONFLICT when a bucket changed under the task; the signal's reason when
   * `control.signal` stops it. Nothing is visible of work that did not commit.
   */
  abstract materializeBuckets(view: ResolvedView, buckets: number[], source: SourceSnapshot, request: BucketRequest, control?: RunControl): Promise<Map<number, BucketRun>>;

  /** The newest row of each pending entity of a bucket, in batches of at most `batchSize`. */
  abstract pendingOnline(view: ResolvedView, bucket: number, batchSize: number): AsyncIterable<PendingBatch>;

  /**
   * Rewrites a bucket whose files have piled up (by default more than 8; `minFiles`: at least
   * that many, 2 or more) as one file with the same rows, when nothing is pending online; true
   * when it did.
   */
  abstract compactBucket(view: ResolvedView, bucket: number, minFiles?: number): Promise<boolean>;

  /** Marks every entity of the view pending, so the next online phase rewrites its whole online table. */
  abstract markAllPending(view: ResolvedView): Promise<void>;

  /** Records the epoch the online store now holds for the view (see ViewState.onlineEpoch). */
  abstract recordOnlineEpoch(view: ResolvedView, epoch: number): Promise<void>;

  /**
   * Point-in-time join with Feast's semantics: for each spine row and view, the latest row with
   * `spine time − ttl ≤ row time ≤ spine time`; ties on event time go to the latest created
   * time; no match gives nulls; output has exactly one row per spine row, in spine order.
   * Throws FEATURE_VIEW_NOT_MATERIALIZED for a view whose table does not exist (yet).
   */
  abstract historicalColumns(query: HistoricalQuery): Promise<HistoricalColumns>;

  /**
   * Writes the query's entity rows, as the join would read them (keys typed, event_timestamp in
   * UTC, other columns kept, input order), to a Parquet file; returns the row count. A saved
   * training set keeps them so it can be rebuilt exactly.
   */
  abstract exportSpine(query: HistoricalQuery, path: string, control?: QueryControl): Promise<number>;

  /**
   * The same join, written by the engine straight to `path` (JSON means JSON Lines). With
   * `withMatchTimestamps`, per view a column `__ts_<i>` holds the matched row's event time.
   * When the work is stopped or fails, nothing is left at `path`.
   */
  abstract historicalToFile(query: HistoricalQuery, format: OutputFormat, path: string, options?: QueryControl & { withMatchTimestamps?: boolean }): Promise<ResultFile>;

  /**
   * The Parquet results of a join's parts (historicalToFile of each `part`) as one Parquet file
   * at `path`, rows in input order and without `__row_id`: the same rows as the join in one
   * piece, and the same bytes whatever machines computed the parts.
   */
  abstract mergeParts(parts: string[], path: string, control?: QueryControl): Promise<ResultFile>;

  /**
   * The view's stored rows with event time in [start, end] (open ends unbounded) — join keys,
   * event_timestamp and features, typed as declared — written to a Parquet file; returns the
   * row count. Throws FEATURE_VIEW_NOT_MATERIALIZED like the join.
   */
  abstract viewRowsToFile(view: ResolvedView, window: { start?: Micros; end?: Micros }, path: string, control?: QueryControl): Promise<number>;

  /**
   * Removes every view's offline rows and incremental state (every shape, every bucket) for
   * `teardown`; the next materialization of a view starts from nothing. Answers how many lake
   * objects it removed, and how many views had any.
   */
  abstract dropAll(): Promise<{ views: number; objects: number }>;
}
