import { DriftOverride } from '../definitions';
import {
  chiSquarePValue,
  DEFAULT_THRESHOLDS,
  defaultMethod,
  FeatureKind,
  isDrift,
  jensenShannonDistance,
  ksPValue,
  lInfinity,
  needsNumbers,
  normedWasserstein,
  psi,
  zTestPValue,
} from './drift-tests';
import { CategoryCount, ColumnStats, DistributionResult, FeatureDrift, Histogram } from './skew-result';

/** What the engine computed for one feature on both sides: everything a drift test needs, no rows. */
export interface FeatureAggregates {
  feature: string;
  kind: FeatureKind;
  referenceType: string;
  currentType: string;
  reference: ColumnStats;
  current: ColumnStats;
  /** Distinct non-null values over both sides. */
  distinctUnion: number;
  /** Numbers only: the K-S statistic and the Wasserstein-1 distance between the two samples. */
  ks: { d: number; wasserstein: number } | null;
  /** Numbers only: shared equal-width bins (Sturges) over both sides. */
  histogram: Histogram | null;
  /** Categories (and numbers with at most 5 distinct values), most frequent first. */
  categories: CategoryCount[] | null;
  /** Categories the current side has and the reference never had. */
  newCategories: { count: number; examples: string[] } | null;
}

const SHOWN_CATEGORIES = 20;

/** Runs the feature's drift test: the default for its type and size, or its view's override. */
export function evaluateFeature(agg: FeatureAggregates, override?: DriftOverride): FeatureDrift {
  const nRef = agg.reference.count - agg.reference.nulls;
  const nCur = agg.current.count - agg.current.nulls;
  const fallback = defaultMethod(agg.kind, nRef, agg.distinctUnion);
  let method = override?.method ?? fallback;
  let source: FeatureDrift['method_source'] = override?.method ? 'feature_view' : 'default';
  let note: string | undefined;
  if (needsNumbers(method) && !agg.ks) {
    note = `${method} needs numbers; used ${fallback}`;
    method = fallback;
    source = 'fallback';
  }
  const threshold = (source === 'feature_view' || !override?.method) && override?.threshold !== undefined ? override.threshold : DEFAULT_THRESHOLDS[method];
  const score = nRef === 0 || nCur === 0 ? null : scoreOf(method, agg, nRef, nCur);
  return {
    feature: agg.feature,
    kind: agg.kind,
    reference_type: agg.referenceType,
    current_type: agg.currentType,
    method,
    method_source: source,
    threshold,
    score,
    drifted: score !== null && isDrift(method, score, threshold),
    reference: agg.reference,
    current: agg.current,
    histogram: agg.histogram,
    categories: agg.categories?.slice(0, SHOWN_CATEGORIES) ?? null,
    ...(score === null ? { note: 'one side has no values: not tested' } : note ? { note } : {}),
  };
}

function scoreOf(method: FeatureDrift['method'], agg: FeatureAggregates, nRef: number, nCur: number): number {
  if (method === 'ks') return ksPValue(agg.ks!.d, nRef, nCur);
  if (method === 'wasserstein') return normedWasserstein(agg.ks!.wasserstein, agg.reference.std ?? 0);
  // Counting methods compare category counts, or for continuous numbers the shared histogram bins.
  const bins = agg.categories ? { reference: agg.categories.map((c) => c.reference), current: agg.categories.map((c) => c.current) } : agg.histogram!;
  switch (method) {
    case 'chisquare':
      return chiSquarePValue(bins.reference, bins.current);
    case 'z':
      return zTestPValue(bins.reference, bins.current);
    case 'jensenshannon':
      return jensenShannonDistance(bins.reference, bins.current);
    case 'psi':
      return psi(bins.reference, bins.current);
    case 'linf':
      return lInfinity(bins.reference, bins.current);
  }
}

/**
 * Dataset drift: at least `driftShare` of the compared features drifted (Evidently's rule), and at
 * least one did — so `drift_share: 0` means "fail on any drifted feature". The check passes
 * unless the dataset drifts; drifted features are flagged either way.
 */
export function summariseDistribution(features: FeatureDrift[], driftShare: number): DistributionResult {
  const tested = features.filter((f) => f.score !== null);
  const drifted = tested.filter((f) => f.drifted).length;
  const share = tested.length === 0 ? 0 : drifted / tested.length;
  const datasetDrift = drifted > 0 && share >= driftShare;
  return {
    passed: !datasetDrift,
    drift_share: share,
    drift_share_threshold: driftShare,
    drifted_features: drifted,
    features_compared: tested.length,
    dataset_drift: datasetDrift,
    features,
  };
}
