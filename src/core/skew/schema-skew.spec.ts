import { evaluateFeature, FeatureAggregates, summariseDistribution } from './distribution';
import { compareSchema, matchColumns } from './schema-skew';
import { ColumnStats } from './skew-result';

const stats = (over: Partial<ColumnStats> = {}): ColumnStats => ({ count: 100, nulls: 0, null_rate: 0, distinct: 3, mean: null, std: null, min: null, max: null, quantiles: null, ...over });

describe('schema skew', () => {
  it('pairs features by view:feature, and a dataset column with a feature of the same name', () => {
    const { matches, missingInCurrent, missingInReference } = matchColumns(
      [{ feature: 'v:a', column: 'a', type: 'DOUBLE' }, { feature: 'v:b', column: 'b', type: 'DOUBLE' }],
      [{ feature: 'a', column: 'a', type: 'DOUBLE' }, { feature: 'c', column: 'c', type: 'VARCHAR' }],
    );
    expect(matches.map((m) => [m.feature, m.current.column])).toEqual([['v:a', 'a']]);
    expect(missingInCurrent).toEqual(['v:b']);
    expect(missingInReference).toEqual(['c']);
  });

  it('reports type changes, new categories and null-rate jumps', () => {
    const agg = (current: Partial<ColumnStats>, fresh = 0) =>
      ({ reference: stats(), current: stats(current), newCategories: { count: fresh, examples: fresh ? ['x'] : [] } }) as unknown as FeatureAggregates;
    const match = (feature: string, refType: string, curType: string) => ({ feature, reference: { feature, column: feature, type: refType }, current: { feature, column: feature, type: curType } });
    const result = compareSchema(
      [
        { match: match('a', 'DOUBLE', 'BIGINT'), aggregates: null },
        { match: match('b', 'VARCHAR', 'VARCHAR'), aggregates: agg({}, 2) },
        { match: match('c', 'VARCHAR', 'VARCHAR'), aggregates: agg({ null_rate: 0.3 }) },
        { match: match('d', 'VARCHAR', 'VARCHAR'), aggregates: agg({ null_rate: 0.05 }) },
      ],
      ['gone'],
      [],
      0.1,
    );
    expect(result.passed).toBe(false);
    expect(result.issues.map((i) => `${i.issue}:${i.feature}`)).toEqual(['missing_in_current:gone', 'type_changed:a', 'new_categories:b', 'null_rate_jump:c']);
  });
});

describe('distribution drift', () => {
  const numeric = (d: number, nRef = 5000): FeatureAggregates => ({
    feature: 'v:x',
    kind: 'numerical',
    referenceType: 'DOUBLE',
    currentType: 'DOUBLE',
    reference: stats({ count: nRef, std: 2 }),
    current: stats({ count: 5000 }),
    distinctUnion: 1000,
    ks: { d, wasserstein: d * 2 },
    histogram: { edges: [0, 1, 2], reference: [50, 50], current: [60, 40] },
    categories: null,
    newCategories: null,
  });

  it('uses the feature view override, and falls back when a method cannot apply', () => {
    expect(evaluateFeature(numeric(0.02))).toMatchObject({ method: 'wasserstein', method_source: 'default', threshold: 0.1, score: 0.02, drifted: false });
    expect(evaluateFeature(numeric(0.02), { method: 'psi', threshold: 0.01 })).toMatchObject({ method: 'psi', method_source: 'feature_view', threshold: 0.01, drifted: true });
    expect(evaluateFeature(numeric(0.02), { threshold: 0.01 })).toMatchObject({ method: 'wasserstein', threshold: 0.01, drifted: true });
    const categorical = { ...numeric(0), kind: 'categorical' as const, ks: null, histogram: null, categories: [{ value: 'a', reference: 10, current: 10 }] };
    expect(evaluateFeature(categorical, { method: 'ks' })).toMatchObject({ method: 'jensenshannon', method_source: 'fallback', note: 'ks needs numbers; used jensenshannon' });
  });

  it('does not test a feature with no values on a side, and calls dataset drift by share', () => {
    const empty = evaluateFeature({ ...numeric(0.5), current: stats({ count: 10, nulls: 10 }) });
    expect(empty).toMatchObject({ score: null, drifted: false });
    const drifted = evaluateFeature(numeric(0.5));
    const calm = evaluateFeature(numeric(0));
    expect(summariseDistribution([drifted, calm, empty], 0.5)).toMatchObject({ features_compared: 2, drifted_features: 1, drift_share: 0.5, dataset_drift: true, passed: false });
    expect(summariseDistribution([drifted, calm, calm], 0.5)).toMatchObject({ dataset_drift: false, passed: true });
    expect(summariseDistribution([calm], 0)).toMatchObject({ dataset_drift: false });
  });
});
