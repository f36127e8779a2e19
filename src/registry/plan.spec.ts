import { testDefinitions } from '../../test/support/catalog';
import { diffDefinitions, formatPlan, hashDefinitions } from './plan';

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

  it('sees no change, and the same hash, when nothing changed', () => {
    expect(diffDefinitions(testDefinitions(), testDefinitions())).toEqual([]);
    expect(hashDefinitions(testDefinitions())).toBe(hashDefinitions(testDefinitions()));
    const changed = testDefinitions();
    changed.featureViews[1].features[0].type = 'float32';
    expect(hashDefinitions(changed)).not.toBe(hashDefinitions(testDefinitions()));
  });
});
