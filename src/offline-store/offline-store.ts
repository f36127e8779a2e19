import { ResolvedView } from '../core/catalog';
import { DatasetDef, JoinKeyDef } from '../core/definitions';
import { EntityRows } from '../core/entity-rows';
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
  eventTimestamps: Micros[];
  features: { column: OutputColumn; values: Value[]; matchedAt: (Micros | null)[] }[];
}

export type OutputFormat = 'parquet' | 'csv' | 'json';

export type { EngineProgress, RunControl } from '../duckdb/progress';
import type { RunControl } from '../duckdb/progress';

/** A dataset snapshot as incremental materialization sees it: all files, and those it has not consumed. */
export interface IncrementalSource extends SourceData {
  snapshotId: number;
  newFiles: string[];
}

/** How an incremental run finds the rows that new data changes (feature view `incremental:`). */
export type IncrementalMode = 'entities' | 'full';

export interface ViewState {
  /** The dataset snapshot whose files are all reflected in the view's table (null: none yet). */
  consumedSnapshot: number | null;
  /** The end of the event-time range the table is complete for, as of that snapshot. */
  watermark: Micros | null;
  /** Entities whose newest row has not been written online yet. */
  pendingOnline: number;
  /**
   * The online store's epoch for this view after the last run that wrote it (null: never). The
   * online store keeps the same number as its marker; a store that answers less, or nothing,
   * lost data since (OnlineStore.readEpoch).
   */
  onlineEpoch: number | null;
}

export interface OfflineRun {
  rowsWritten: number;
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
 * Feature views' rows over time, derived from the lake; the source of training sets and of
 * what materialization pushes online. Timestamps are UTC microseconds; windows are inclusive
 * at both ends, like Feast's.
 *
 * Invariant kept by every write: an entity whose stored rows change is marked pending in the
 * same transaction, and stays pending until its newest row has been written online (`ack`), so
 * a run that fails or is killed between the two stores leaves work that the next run finishes.
 */
export abstract class OfflineStore {
  /**
   * Recomputes the view's rows with event time in [start, end] from `source` (all of its files)
   * and replaces the stored rows of that window, in one transaction. Does not move the view's
   * consumed snapshot or watermark. Throws FEATURE_VIEW_SQL_INVALID when the SQL does not return
   * the keys, event_timestamp and features; MATERIALIZATION_FAILED when the data does not fit the
   * declared types; JOB_CANCELLED when `control.signal` aborts (nothing is changed then).
   */
  abstract materializeWindow(view: ResolvedView, source: SourceData, start: Micros, end: Micros, control?: RunControl): Promise<OfflineRun>;

  /**
   * Brings the view up to `source.snapshotId` and event time `end`, in one transaction: rows of
   * entities that the new files touch are recomputed from all files (mode `entities`; every row
   * with mode `full` or on the first run), as are all rows newer than the previous watermark.
   * Late data — events older than the last run — is therefore included. Records the snapshot as
   * consumed and the watermark as max(previous, end). Errors as materializeWindow.
   */
  abstract materializeIncremental(view: ResolvedView, source: IncrementalSource, end: Micros, mode: IncrementalMode, control?: RunControl): Promise<OfflineRun>;

  /** The view's incremental state (all null/0 for a view whose table has another shape or none). */
  abstract viewState(view: ResolvedView): Promise<ViewState>;

  /** Marks every entity of the view pending, so the next online phase rewrites its whole online table. */
  abstract markAllPending(view: ResolvedView): Promise<void>;

  /** Records the epoch the online store now holds for the view (see ViewState.onlineEpoch). */
  abstract recordOnlineEpoch(view: ResolvedView, epoch: number): Promise<void>;

  /** The newest stored row of each pending entity, in batches of at most `batchSize`. */
  abstract pendingOnline(view: ResolvedView, batchSize: number): AsyncIterable<PendingBatch>;

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
   * The view's stored rows with event time in [start, end] (open ends unbounded) — join keys,
   * event_timestamp and features, typed as declared — written to a Parquet file; returns the
   * row count. Throws FEATURE_VIEW_NOT_MATERIALIZED like the join.
   */
  abstract viewRowsToFile(view: ResolvedView, window: { start?: Micros; end?: Micros }, path: string, control?: QueryControl): Promise<number>;
}
