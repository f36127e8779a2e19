import { testDefinitions } from '../../test/support/catalog';
import { diffDefinitions, formatPlan, hashDefinitions, viewsEmptiedOnline } from './plan';

describe('plan', () => {
  it('creates everything against an empty registry', () => {
    const changes = diffDefinitions(null, testDefinitions());
    expect(changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create entity driver',
      'create entity trip',
      'create dataset events',
      'create feature_view driver_stats',
      'create feature_view zone_stats',
      'create feature_service all',
      'create push_source events_push',
    ]);
  });

  it('names the changed fields of an update and lists deletions', () => {
    const before = testDefinitions();
    const after = testDefinitions();
    after.featureViews[0].ttlSeconds = 7200;
    after.featureServices = [];
    const plan = { baseVersion: 1, changes: diffDefinitions(before, after), definitions: after, definitionsHash: hashDefinitions(after) };
    expect(formatPlan(plan)).toEqual(['~ feature_view driver_stats (ttlSeconds)', '- feature_service all']);
  });

  it('warns of the online views a shape change empties until they are materialized, and of no others', () => {
    const before = testDefinitions();
    const after = testDefinitions();
    after.featureViews[0].ttlSeconds = 7200; // not the shape
    after.featureViews[1].features = [...after.featureViews[1].features, { name: 'extra', type: 'float64' }];
    expect(viewsEmptiedOnline(before, after)).toEqual([after.featureViews[1].name]);
    expect(viewsEmptiedOnline(null, after)).toEqual([]);
    const typed = testDefinitions();
    typed.featureViews[0].features = typed.featureViews[0].features.map((f, i) => (i === 0 ? { ...f, type: f.type === 'float64' ? 'float32' : 'float64' } : f));
    expect(viewsEmptiedOnline(before, typed)).toEqual([typed.featureViews[0].name]);
    const offline = testDefinitions();
    offline.featureViews[1].features = after.featureViews[1].features;
    offline.featureViews[1].online = false;
    expect(viewsEmptiedOnline(before, offline)).toEqual([]);
    const plan = { baseVersion: 1, changes: diffDefinitions(before, after), definitions: after, definitionsHash: hashDefinitions(after), emptiedOnline: viewsEmptiedOnline(before, after) };
    expect(formatPlan(plan).at(-1)).toBe(`! feature_view ${after.featureViews[1].name}: its keys or features change shape, so it reads empty online (NOT_FOUND) until it is materialized again`);
  });

  it('sees no change, and the same hash, when nothing changed', () => {
    expect(diffDefinitions(testDefinitions(), testDefinitions())).toEqual([]);
    expect(hashDefinitions(testDefinitions())).toBe(hashDefinitions(testDefinitions()));
    const changed = testDefinitions();
    changed.featureViews[1].features[0].type = 'float32';
    expect(hashDefinitions(changed)).not.toBe(hashDefinitions(testDefinitions()));
  });
});
