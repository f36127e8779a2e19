import { testCatalog } from '../../test/support/catalog';
import { InMemoryOnlineStore } from '../../test/support/fakes';
import { ResolvedView } from '../core/catalog';
import { OnlineRecord } from '../core/online-record';
import { Micros } from '../core/timestamp';
import { DatasetService } from '../lake/dataset.service';
import { DatasetSnapshot } from '../lake/dataset-manifest';
import { OfflineStore } from '../offline-store/offline-store';
import { RegistryService } from '../registry/registry.service';
import { MaterializationService } from './materialization.service';

class FakeOfflineStore {
  windows: [string, Micros, Micros][] = [];
  watermarks = new Map<string, Micros>();
  release?: Promise<void>;

  async materializeWindow(view: ResolvedView, _source: unknown, start: Micros, end: Micros) {
    this.windows.push([view.def.name, start, end]);
    await this.release;
    return 5;
  }
  async *latestRows(view: ResolvedView): AsyncIterable<OnlineRecord[]> {
    const values = view.def.features.map(() => null);
    yield [{ entityKey: '1', eventTimestamp: 1n, createdTimestamp: null, values }];
    yield [{ entityKey: '2', eventTimestamp: 1n, createdTimestamp: null, values }];
  }
  async watermark(view: ResolvedView) {
    return this.watermarks.get(view.def.name) ?? null;
  }
  async setWatermark(view: ResolvedView, end: Micros) {
    this.watermarks.set(view.def.name, end);
  }
}

describe('MaterializationService (fake stores)', () => {
  const catalog = testCatalog();
  let offline: FakeOfflineStore;
  let online: InMemoryOnlineStore;
  let snapshot: DatasetSnapshot | null;
  let service: MaterializationService;

  beforeEach(() => {
    offline = new FakeOfflineStore();
    online = new InMemoryOnlineStore();
    snapshot = { snapshotId: 3, files: [] } as unknown as DatasetSnapshot;
    const datasets = { snapshot: async () => snapshot, localFiles: async () => ['/x.parquet'] } as unknown as DatasetService;
    service = new MaterializationService({ catalog: async () => catalog } as unknown as RegistryService, datasets, offline as unknown as OfflineStore, online);
  });

  it('recomputes the window offline, pushes the latest rows online in batches and records the end', async () => {
    const run = await service.materialize(10n, 20n, ['driver_stats']);
    expect(offline.windows).toEqual([['driver_stats', 10n, 20n]]);
    expect(online.writes.map((w) => w.length)).toEqual([1, 1]);
    expect(run.views[0]).toMatchObject({ view: 'driver_stats', sourceSnapshot: 3, rowsOffline: 5, rowsOnline: 2 });
    expect(offline.watermarks.get('driver_stats')).toBe(20n);
  });

  it('continues incremental runs from where the last run of each view ended', async () => {
    await service.materialize(10n, 20n, ['driver_stats']);
    await service.materializeIncremental(30n);
    expect(offline.windows.slice(1)).toEqual([
      ['driver_stats', 20n, 30n],
      ['zone_stats', -62135596800000000n, 30n],
    ]);
  });

  it('skips a view whose dataset has no data yet', async () => {
    snapshot = null;
    const run = await service.materialize(10n, 20n);
    expect(run.views.map((v) => v.sourceSnapshot)).toEqual([null, null]);
    expect(offline.windows).toEqual([]);
  });

  it('refuses a second run on a view that is being materialized (409), then allows it again', async () => {
    let finish!: () => void;
    offline.release = new Promise((resolve) => (finish = resolve));
    const first = service.materialize(10n, 20n, ['driver_stats']);
    await new Promise((r) => setImmediate(r));
    await expect(service.materialize(10n, 20n, ['zone_stats', 'driver_stats'])).rejects.toMatchObject({ code: 'MATERIALIZATION_IN_PROGRESS', details: { view: 'driver_stats' } });
    finish();
    await first;
    await expect(service.materialize(10n, 20n, ['driver_stats'])).resolves.toBeDefined();
  });

  it('refuses a window that ends before it starts, and unknown views', async () => {
    await expect(service.materialize(20n, 10n)).rejects.toMatchObject({ code: 'INVALID_WINDOW' });
    await expect(service.materialize(10n, 20n, ['nope'])).rejects.toMatchObject({ code: 'FEATURE_VIEW_NOT_FOUND' });
  });
});
