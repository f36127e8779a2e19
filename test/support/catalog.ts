import { FeatureCatalog } from '../../src/core/catalog';
import { Definitions, RegistryVersion } from '../../src/core/definitions';

/** A small registry covering every value type, a composite key and a view without ttl. */
export function testDefinitions(project = 'test'): Definitions {
  return {
    project,
    entities: [
      { name: 'driver', joinKeys: [{ name: 'driver_id', type: 'int64' }] },
      { name: 'trip', joinKeys: [{ name: 'city', type: 'string' }, { name: 'zone', type: 'int32' }] },
    ],
    datasets: [{ name: 'events', timestampField: 'ts', createdTimestampField: 'created' }],
    featureViews: [
      {
        name: 'driver_stats',
        entities: ['driver'],
        source: 'events',
        ttlSeconds: 3600,
        online: true,
        incremental: 'entities',
        features: [
          { name: 'rating', type: 'float64' },
          { name: 'trips', type: 'int64' },
          { name: 'active', type: 'bool' },
          { name: 'last_seen', type: 'timestamp' },
          { name: 'name', type: 'string' },
          { name: 'level', type: 'int32' },
          { name: 'score32', type: 'float32' },
        ],
      },
      {
        name: 'zone_stats',
        entities: ['trip'],
        source: 'events',
        ttlSeconds: null,
        online: true,
        incremental: 'entities',
        features: [{ name: 'demand', type: 'float64' }],
      },
    ],
    featureServices: [{ name: 'all', features: ['driver_stats', 'zone_stats:demand'] }],
    pushSources: [{ name: 'events_push', dataset: 'events' }],
  };
}

export function testCatalog(definitions: Definitions = testDefinitions(), version = 1): FeatureCatalog {
  const registry: RegistryVersion = { ...definitions, version, appliedAt: '2026-01-01T00:00:00Z', definitionsHash: `hash-${version}` };
  return new FeatureCatalog(registry);
}
