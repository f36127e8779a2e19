import { testCatalog } from '../../test/support/catalog';
import { resolveSelection } from './feature-selection';

describe('resolveSelection', () => {
  const catalog = testCatalog();

  it('keeps request order, groups by view, and collects the join keys needed', () => {
    const selection = resolveSelection(catalog, { features: ['zone_stats:demand', 'driver_stats:trips', 'driver_stats:rating'] });
    expect(selection.columns.map((c) => c.name)).toEqual(['demand', 'trips', 'rating']);
    expect(selection.views.map((v) => [v.view.def.name, v.features.map((f) => f.name)])).toEqual([
      ['zone_stats', ['demand']],
      ['driver_stats', ['trips', 'rating']],
    ]);
    expect(selection.joinKeys.map((k) => k.name)).toEqual(['city', 'zone', 'driver_id']);
  });

  it('expands a feature service, where a bare view name means all of its features', () => {
    const selection = resolveSelection(catalog, { featureService: 'all', fullFeatureNames: true });
    expect(selection.columns.map((c) => c.name)).toEqual([
      'driver_stats__rating', 'driver_stats__trips', 'driver_stats__active', 'driver_stats__last_seen',
      'driver_stats__name', 'driver_stats__level', 'driver_stats__score32', 'zone_stats__demand',
    ]);
  });

  it.each([
    [{ features: ['driver_stats:rating'], featureService: 'all' }, 'VALIDATION_FAILED'],
    [{}, 'VALIDATION_FAILED'],
    [{ features: [] }, 'VALIDATION_FAILED'],
    [{ features: ['rating'] }, 'INVALID_FEATURE_REF'],
    [{ features: ['a:b:c'] }, 'INVALID_FEATURE_REF'],
    [{ features: ['nope:rating'] }, 'FEATURE_VIEW_NOT_FOUND'],
    [{ features: ['driver_stats:nope'] }, 'FEATURE_NOT_FOUND'],
    [{ featureService: 'nope' }, 'FEATURE_SERVICE_NOT_FOUND'],
    [{ features: ['driver_stats:rating', 'driver_stats:rating'] }, 'FEATURE_NAME_COLLISION'],
  ])('refuses %j with %s', (request, code) => {
    expect(() => resolveSelection(catalog, request)).toThrow(expect.objectContaining({ code }));
  });

  it('names both views on a collision and suggests full feature names', () => {
    const defs = testCatalog().registry;
    const clash = testCatalog({ ...defs, featureViews: [...defs.featureViews, { ...defs.featureViews[1], name: 'zone_copy' }] });
    expect(() => resolveSelection(clash, { features: ['zone_stats:demand', 'zone_copy:demand'] })).toThrow(/zone_stats and zone_copy; set full_feature_names/);
    expect(resolveSelection(clash, { features: ['zone_stats:demand', 'zone_copy:demand'], fullFeatureNames: true }).columns).toHaveLength(2);
  });
});
