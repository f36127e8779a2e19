import { DriftMethod } from '../definitions';
import { CheckKind } from './skew-spec';
import { FeatureKind } from './drift-tests';

/**
 * The stored and served result of a skew check (format 1). Field names are the wire format —
 * snake_case, stable — because the document is written to the lake as it is returned.
 */
export interface SkewResult {
  format: 1;
  id: string;
  name: string | null;
  project: string;
  created_at: string;
  duration_ms: number;
  registry_version: number;
  checks: CheckKind[];
  /** `failed` when any check that ran failed. */
  status: 'passed' | 'failed';
  reference: SideSummary | null;
  current: SideSummary;
  consistency: ConsistencyResult | null;
  distribution: DistributionResult | null;
  schema: SchemaResult | null;
}

/** Which rows a side held: its kind, what named them (resolved windows as timestamps), the row count. */
export interface SideSummary {
  kind: string;
  label: string;
  spec: Record<string, unknown>;
  rows: number;
}

export interface ColumnStats {
  count: number;
  nulls: number;
  null_rate: number;
  distinct: number;
  mean: number | null;
  std: number | null;
  min: number | string | null;
  max: number | string | null;
  quantiles: { p05: number; p25: number; p50: number; p75: number; p95: number } | null;
}

export interface Histogram {
  edges: number[];
  reference: number[];
  current: number[];
}

export interface CategoryCount {
  value: string;
  reference: number;
  current: number;
}

export interface FeatureDrift {
  feature: string;
  kind: FeatureKind;
  reference_type: string;
  current_type: string;
  method: DriftMethod;
  /** Where the method and threshold came from. */
  method_source: 'default' | 'feature_view' | 'fallback';
  threshold: number;
  /** A p-value (ks, chisquare, z) or a distance (the others); null when a side has no values. */
  score: number | null;
  drifted: boolean;
  reference: ColumnStats;
  current: ColumnStats;
  histogram: Histogram | null;
  /** The most frequent categories (up to 20 for display; tests use all, up to 1000 plus the rest). */
  categories: CategoryCount[] | null;
  note?: string;
}

export interface DistributionResult {
  passed: boolean;
  drift_share: number;
  drift_share_threshold: number;
  drifted_features: number;
  features_compared: number;
  dataset_drift: boolean;
  features: FeatureDrift[];
}

export type SchemaIssueKind = 'missing_in_current' | 'missing_in_reference' | 'type_changed' | 'new_categories' | 'null_rate_jump';

export interface SchemaIssue {
  feature: string;
  issue: SchemaIssueKind;
  message: string;
  reference?: unknown;
  current?: unknown;
}

export interface SchemaResult {
  passed: boolean;
  null_rate_threshold: number;
  features: { feature: string; reference_type: string | null; current_type: string | null; reference_null_rate: number | null; current_null_rate: number | null }[];
  issues: SchemaIssue[];
}

export interface ConsistencyFeature {
  feature: string;
  type: string;
  /** Logged rows in the window. */
  rows: number;
  /** Rows where served and offline both have a value. */
  compared: number;
  /** Of those, the ones that differ. */
  mismatches: number;
  /** Served null where offline had a value. */
  missing: number;
  /** Served a value where offline had none. */
  extra: number;
  mismatch_rate: number;
  /** (mismatches + missing + extra) / rows: what the threshold applies to. */
  inconsistent_rate: number;
  /** Symmetric mean absolute percentage error over compared rows, in percent (0–200); null for non-numbers. */
  smape: number | null;
  passed: boolean;
  examples: { keys: Record<string, unknown>; request_time: string; served: unknown; offline: unknown }[];
}

export interface ConsistencyResult {
  passed: boolean;
  feature_service: string;
  threshold: number;
  rows: number;
  features: ConsistencyFeature[];
}
