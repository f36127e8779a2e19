import { FeatureAggregates } from '../../core/skew/distribution';
import { FeatureMatch } from '../../core/skew/schema-skew';
import { ConsistencyFeature } from '../../core/skew/skew-result';
import { Micros } from '../../core/timestamp';

/** A side's rows: local Parquet files, optionally narrowed to a window of one timestamp column (inclusive). */
export interface SideRelation {
  files: string[];
  window?: { column: string; start?: Micros; end?: Micros };
}

/** One feature to compare in a consistency check: the served column and the offline one, side by side in one file. */
export interface ServedPair {
  feature: string;
  type: string;
  servedColumn: string;
  offlineColumn: string;
}

/**
 * Where skew statistics are computed. Contract: every statistic is computed by the engine over
 * the files (never by reading rows into JS); results are aggregates whose size does not grow
 * with the data (at most 1000 categories, a bounded histogram, five examples per feature).
 */
export abstract class SkewEngine {
  /** Column names and engine types, in file order. Every method stops when `signal` fires, failing with its reason. */
  abstract describe(side: SideRelation, signal?: AbortSignal): Promise<{ name: string; type: string }[]>;

  abstract count(side: SideRelation, signal?: AbortSignal): Promise<number>;

  /** Per match, the aggregates both sides need for drift and schema tests; null for a type that cannot be compared (lists, blobs). */
  abstract aggregates(reference: SideRelation, current: SideRelation, matches: FeatureMatch[], signal?: AbortSignal): Promise<(FeatureAggregates | null)[]>;

  /**
   * Served against offline values in `file` (one row per logged row): per pair, the counts and
   * SMAPE of ConsistencyFeature, with up to five example rows that disagree (`keys` columns named).
   */
  abstract compareServed(file: string, pairs: ServedPair[], keys: string[], timeColumn: string, threshold: number, signal?: AbortSignal): Promise<ConsistencyFeature[]>;
}
