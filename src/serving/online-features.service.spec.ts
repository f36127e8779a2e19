import { testCatalog, testDefinitions } from '../../test/support/catalog';
import { CollectingLogSink, InMemoryOnlineStore } from '../../test/support/fakes';
import { FeatureLogger } from '../monitoring/logging/feature-logger';
import { Metrics } from '../metrics/metrics';
import { AppConfig } from '../config/app-config';
import { encodeEntityKey } from '../core/entity-key';
import { onlineResponseJson } from '../core/online-response';
import { nowMicros } from '../core/timestamp';
import { RegistryService } from '../registry/registry.service';
import { OnlineFeaturesService } from './online-features.service';

describe('OnlineFeaturesService (fake online store)', () => {
  const definitions = testDefinitions();
  definitions.featureServices[0].logging = { sampleRate: 1 };
  const catalog = testCatalog(definitions);
  const store = new InMemoryOnlineStore();
  const config = AppConfig.of({ limits: { maxOnlineRows: 100 }, monitoring: { logFlushSeconds: 60, logFlushRows: 1000, logBufferRows: 1000 } } as AppConfig);
  const sink = new CollectingLogSink();
  const logger = new FeatureLogger(config, sink, new Metrics());
  const service = new OnlineFeaturesService(config, { catalog: async () => catalog } as unknown as RegistryService, store, logger);
  const hour = 3_600_000_000n;
  const now = nowMicros();

  beforeAll(async () => {
    const drivers = catalog.view('driver_stats');
    const values = (rating: number | null) => [rating, 10n, true, 0n, 'n', 1, 0.5];
    await store.write('test', drivers, [
      { entityKey: encodeEntityKey([1n])!, eventTimestamp: now - hour / 2n, createdTimestamp: null, values: values(4.5) },
      { entityKey: encodeEntityKey([2n])!, eventTimestamp: now - 2n * hour, createdTimestamp: null, values: values(3.0) },
      { entityKey: encodeEntityKey([3n])!, eventTimestamp: now - hour / 2n, createdTimestamp: null, values: values(null) },
    ]);
    await store.write('test', catalog.view('zone_stats'), [{ entityKey: encodeEntityKey(['berlin', 7])!, eventTimestamp: 0n, createdTimestamp: null, values: [0.25] }]);
  });

  it('answers column-major with join keys first, statuses by ttl, from one store read', async () => {
    store.reads = 0;
    const response = await service.get({
      features: ['driver_stats:rating', 'zone_stats:demand', 'driver_stats:trips'],
      entities: { driver_id: [1, 2, 3, 4], city: ['berlin', 'berlin', 'x', 'berlin'], zone: [7, 7, 7, 7] },
    });
    expect(store.reads).toBe(1);
    expect(response.metadata.feature_names).toEqual(['driver_id', 'city', 'zone', 'rating', 'demand', 'trips']);
    const [ids, , , rating, demand, trips] = response.results;
    expect(ids.values).toEqual([1n, 2n, 3n, 4n]);
    expect(rating.statuses).toEqual(['PRESENT', 'OUTSIDE_MAX_AGE', 'NULL_VALUE', 'NOT_FOUND']);
    expect(rating.values).toEqual([4.5, null, null, null]);
    expect(demand.values).toEqual([0.25, 0.25, null, 0.25]); // no ttl: never too old
    expect(demand.event_timestamps[0]).toBe('1970-01-01T00:00:00Z');
    expect(trips.values).toEqual([10n, null, 10n, null]);
  });

  it('writes the same answer straight to JSON text (the HTTP path)', async () => {
    const request = {
      features: ['driver_stats:rating', 'zone_stats:demand', 'driver_stats:trips', 'driver_stats:last_seen'],
      entities: { driver_id: [1, 2, 3, 4], city: ['berlin', 'berlin', 'x', 'berlin'], zone: [7, 7, 7, 7] },
    };
    // Join keys driver_id, city, zone; then rating and demand (float64), trips, last_seen.
    const floats = [false, false, false, true, true, false, false];
    expect(await service.getJson(request)).toBe(onlineResponseJson(await service.get(request), floats));
    const viewed = { ...request, includeViewMetadata: true };
    expect(await service.getJson(viewed)).toBe(onlineResponseJson(await service.get(viewed), floats));
  });

  it('prints float features as floats, as Feast\'s Python client needs to read them, and the views on request', async () => {
    const drivers = catalog.view('driver_stats');
    const row = (id: bigint, rating: number) => ({ entityKey: encodeEntityKey([id])!, eventTimestamp: now - hour / 4n, createdTimestamp: null, values: [rating, 10n, true, 0n, 'n', 1, 0.5] });
    await store.write('test', drivers, [row(11n, 12), row(12n, 1e20), row(13n, -0.5)]);
    const text = await service.getJson({ features: ['driver_stats:rating', 'driver_stats:trips'], includeViewMetadata: true, entities: { driver_id: [11, 12, 13] } });
    expect(text).toContain('"values":[12.0,1e+20,-0.5]');
    expect(text).toContain('"values":[10,10,10]'); // int64 stays an integer
    expect(JSON.parse(text).metadata).toEqual({ feature_names: ['driver_id', 'rating', 'trips'], feature_view_metadata: [{ name: 'driver_stats', version: 0 }] });
  });

  it('names features view__feature on request', async () => {
    const response = await service.get({ features: ['zone_stats:demand'], fullFeatureNames: true, entities: { city: ['berlin'], zone: [7] } });
    expect(response.metadata.feature_names).toEqual(['city', 'zone', 'zone_stats__demand']);
  });

  it('refuses more entity rows than the limit', async () => {
    await expect(service.get({ features: ['zone_stats:demand'], entities: { city: Array(101).fill('a'), zone: Array(101).fill(1) } })).rejects.toMatchObject({
      code: 'ROW_LIMIT_EXCEEDED',
      status: 413,
      details: { limit: 'limits.max_online_rows', max: 100 },
    });
  });

  it('logs what a logged feature service served, as served, and nothing for plain feature lists', async () => {
    await service.get({ features: ['zone_stats:demand'], entities: { city: ['berlin'], zone: [7] } });
    const response = await service.get({ featureService: 'all', entities: { driver_id: [1, 2], city: ['berlin', 'x'], zone: [7, 7] } });
    await logger.flush();
    expect(sink.batches).toHaveLength(1);
    const [{ shape, rows }] = sink.batches;
    expect(shape.dataset.name).toMatch(/^_log_all_[0-9a-f]{8}$/);
    expect(shape.keys.map((k) => k.name)).toEqual(['driver_id', 'city', 'zone']);
    expect(rows).toHaveLength(2);
    const rating = shape.features.findIndex((f) => f.column === 'served__driver_stats__rating');
    const demand = shape.features.findIndex((f) => f.column === 'served__zone_stats__demand');
    const [drivers, zones] = ['driver_stats', 'zone_stats'].map((v) => shape.views.findIndex((s) => s.name === v));
    expect(shape.views.map((v) => v.statusColumn)).toEqual(['status__driver_stats', 'status__zone_stats']);
    expect(rows.map((r) => r.keys)).toEqual([[1n, 'berlin', 7], [2n, 'x', 7]]);
    expect(rows.map((r) => [r.values[rating], r.statuses[drivers]])).toEqual([[4.5, 'PRESENT'], [null, 'OUTSIDE_MAX_AGE']]);
    expect(rows.map((r) => [r.values[demand], r.statuses[zones]])).toEqual([[0.25, 'PRESENT'], [null, 'NOT_FOUND']]);
    expect(rows[0].requestId).toBe(rows[1].requestId);
    const served = response.results[response.metadata.feature_names.indexOf('rating')];
    expect(served.values).toEqual([4.5, null]);
  });
});
