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

/** Entity rows for a point-in-time join: in memory (JSON requests), or a file read by the engine. */
export type Spine =
  | { kind: 'rows'; rows: EntityRows }
  | { kind: 'file'; path: string; format: FileFormat; name: string };

export interface HistoricalQuery {
  spine: Spine;
  selection: FeatureSelection;
}

/** A point-in-time result, column-major, rows in spine order. */
export interface HistoricalColumns {
  entityColumns: { key: JoinKeyDef; values: Value[] }[];
  eventTimestamps: Micros[];
  features: { column: OutputColumn; values: Value[]; matchedAt: (Micros | null)[] }[];
}

export type OutputFormat = 'parquet' | 'csv' | 'json';

/**
 * Feature views' rows over time, derived from the lake; the source of training sets and of
 * what materialization pushes online. Timestamps are UTC microseconds; windows are inclusive
 * at both ends, like Feast's.
 */
export abstract class OfflineStore {
  /**
   * Recomputes the view's rows with event time in [start, end] from `source` and replaces the
   * stored rows of that window with them in one transaction (readers see all or nothing).
   * Returns the number of rows written. Throws FEATURE_VIEW_SQL_INVALID when the view's SQL
   * does not return its keys, event_timestamp and features, MATERIALIZATION_FAILED when the
   * data does not fit the declared types.
   */
  abstract materializeWindow(view: ResolvedView, source: SourceData, start: Micros, end: Micros): Promise<number>;

  /**
   * Per entity, the newest stored row with event time in [start, end] (newest event time, then
   * created time), streamed in batches of at most `batchSize` records, never all at once.
   */
  abstract latestRows(view: ResolvedView, start: Micros, end: Micros, batchSize: number): AsyncIterable<OnlineRecord[]>;

  /**
   * Point-in-time join with Feast's semantics: for each spine row and view, the latest row with
   * `spine time − ttl ≤ row time ≤ spine time`; ties on event time go to the latest created
   * time; no match gives nulls; output has exactly one row per spine row, in spine order.
   * Throws FEATURE_VIEW_NOT_MATERIALIZED for a view whose table does not exist (yet).
   */
  abstract historicalColumns(query: HistoricalQuery): Promise<HistoricalColumns>;

  /** The same join, written by the engine straight to `path`; returns the row count. */
  abstract historicalToFile(query: HistoricalQuery, format: OutputFormat, path: string): Promise<number>;

  /** End of the last completed materialization window of the view, or null. */
  abstract watermark(view: ResolvedView): Promise<Micros | null>;

  abstract setWatermark(view: ResolvedView, end: Micros): Promise<void>;
}
