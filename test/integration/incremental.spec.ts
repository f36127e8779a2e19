import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../../src/app.module';
import { loadConfig } from '../../src/config/load-config';
import { encodeEntityKey } from '../../src/core/entity-key';
import { parseTimestamp } from '../../src/core/timestamp';
import { DatasetService } from '../../src/lake/dataset.service';
import { MaterializationJobs } from '../../src/materialization/materialization-jobs.service';
import { OfflineStore } from '../../src/offline-store/offline-store';
import { OnlineStore } from '../../src/online-store/online-store';
import { RegistryService } from '../../src/registry/registry.service';
import { HistoricalFeaturesService } from '../../src/retrieval/historical-features.service';

const t = (iso: string) => parseTimestamp(iso) as bigint;

const REPO = `
entities:
  - { name: airport, join_keys: [airport], value_type: string }
datasets:
  - { name: flights, timestamp_field: date }
feature_views:
  - name: daily
    entities: [airport]
    source: flights
    sql: |
      SELECT origin AS airport, date_trunc('day', date) + INTERVAL 1 DAY AS event_timestamp,
             avg(delay)::DOUBLE AS avg_delay, count(*) AS flights
      FROM flights GROUP BY ALL
    features:
      - { name: avg_delay, type: float64 }
      - { name: flights, type: int64 }
`;

/** Incremental materialization driven by lake snapshots, on real DuckDB and the embedded online store. */
describe('incremental materialization', () => {
  let dir: string;
  let app: INestApplicationContext;
  let file = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-incr-'));
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'featurelake.yaml'), 'project: incr\nlake:\n  uri: file://../lake\nstate_dir: ..\n');
    writeFileSync(join(repo, 'defs.yaml'), REPO);
    app = await NestFactory.createApplicationContext(AppModule.register(loadConfig(repo, {})), { logger: false });
    await app.get(RegistryService).apply();
  });

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ingest(csvRows: string[]) {
    const path = join(dir, `batch-${++file}.csv`);
    writeFileSync(path, ['origin,date,delay', ...csvRows].join('\n'));
    return app.get(DatasetService).ingest('flights', [{ path, format: 'csv', name: `batch-${file}.csv` }]);
  }

  async function incremental(end: string) {
    const jobs = app.get(MaterializationJobs);
    return jobs.wait((await jobs.submit({ kind: 'materialize-incremental', end: t(end), views: ['daily'] })).id);
  }

  async function online(airports: string[]) {
    const catalog = await app.get(RegistryService).catalog();
    const [records] = await app.get(OnlineStore).read(catalog.project, [{ view: catalog.view('daily'), entityKeys: airports.map((a) => encodeEntityKey([a])) }]);
    return records.map((r) => (r ? { at: r.eventTimestamp, avg: r.values[0], n: r.values[1] } : null));
  }

  async function offline(airport: string, at: string) {
    const response = await app.get(HistoricalFeaturesService).columns({ features: ['daily:avg_delay'], entities: { airport: [airport], event_timestamp: [at] } });
    return response.results[2].values[0];
  }

  it('materializes the first snapshot: every entity, offline and online', async () => {
    await ingest(['ORD,2026-01-01T08:00:00Z,10', 'ORD,2026-01-01T09:00:00Z,20', 'ATL,2026-01-01T10:00:00Z,5']);
    const job = await incremental('2026-01-03T00:00:00Z');
    expect(job.views[0]).toMatchObject({ state: 'done', sourceSnapshot: 1, newRows: 3, rowsOffline: 2, rowsOnline: 2, start: null });
    expect(await online(['ORD', 'ATL'])).toEqual([
      { at: t('2026-01-02T00:00:00Z'), avg: 15, n: 2n },
      { at: t('2026-01-02T00:00:00Z'), avg: 5, n: 1n },
    ]);
  });

  it('processes exactly what arrived since, including a late event older than the last window', async () => {
    // ORD flies on day 2 (in order); an ATL flight of day 1 arrives late, after day 1 was materialized.
    await ingest(['ORD,2026-01-02T08:00:00Z,30', 'ATL,2026-01-01T11:00:00Z,15']);
    const job = await incremental('2026-01-04T00:00:00Z');
    expect(job.views[0]).toMatchObject({ state: 'done', sourceSnapshot: 2, newRows: 2, start: t('2026-01-03T00:00:00Z') });
    expect(await online(['ORD', 'ATL'])).toEqual([
      { at: t('2026-01-03T00:00:00Z'), avg: 30, n: 1n },
      { at: t('2026-01-02T00:00:00Z'), avg: 10, n: 2n }, // day 1 of ATL recomputed with the late flight
    ]);
    expect(await offline('ATL', '2026-01-02T12:00:00Z')).toBe(10);
    expect(await offline('ORD', '2026-01-02T12:00:00Z')).toBe(15);
  });

  it('changes nothing when run again', async () => {
    const before = await online(['ORD', 'ATL']);
    const job = await incremental('2026-01-04T00:00:00Z');
    expect(job.views[0]).toMatchObject({ rowsOffline: 0, rowsOnline: 0, newRows: 0, note: expect.stringMatching(/up to date/) });
    expect(await online(['ORD', 'ATL'])).toEqual(before);
  });

  it('leaves work pending when the online store fails, and the next run finishes it', async () => {
    await ingest(['DEN,2026-01-03T08:00:00Z,40', 'ORD,2026-01-03T08:00:00Z,50']);
    const store = app.get(OnlineStore);
    const write = jest.spyOn(store, 'write').mockRejectedValueOnce(new Error('online store down'));
    await expect(incremental('2026-01-05T00:00:00Z')).rejects.toThrow('online store down');
    write.mockRestore();
    const catalog = await app.get(RegistryService).catalog();
    const state = await app.get(OfflineStore).viewState(catalog.view('daily'));
    // The range of buckets whose online write failed stays pending (the other ranges are tasks of their own, and went on).
    expect(state.pendingBuckets).toBeGreaterThanOrEqual(1);
    const retry = await incremental('2026-01-05T00:00:00Z');
    expect(retry.views[0]).toMatchObject({ state: 'done' });
    expect(await app.get(OfflineStore).viewState(catalog.view('daily'))).toMatchObject({ consumedSnapshot: 3, pendingBuckets: 0 });
    expect(await online(['DEN', 'ORD'])).toEqual([
      { at: t('2026-01-04T00:00:00Z'), avg: 40, n: 1n },
      { at: t('2026-01-04T00:00:00Z'), avg: 50, n: 1n },
    ]);
  });

  it('keeps the buckets of a range whose offline step failed as they were, and the job history', async () => {
    await ingest(['SFO,2026-01-04T08:00:00Z,1']);
    const offlineStore = app.get(OfflineStore);
    const catalog = await app.get(RegistryService).catalog();
    const before = await offlineStore.viewState(catalog.view('daily'));
    const spy = jest.spyOn(offlineStore, 'materializeBuckets').mockRejectedValueOnce(new Error('disk full'));
    await expect(incremental('2026-01-06T00:00:00Z')).rejects.toThrow('disk full');
    spy.mockRestore();
    // The failed range consumed nothing, so the view as a whole still stands at the snapshot before.
    expect(await offlineStore.viewState(catalog.view('daily'))).toMatchObject({ consumedSnapshot: before.consumedSnapshot });
    const history = await app.get(MaterializationJobs).list(10);
    expect(history.map((j) => j.state)).toEqual(['failed', 'succeeded', 'failed', 'succeeded', 'succeeded', 'succeeded']);
    expect(history[0].error).toMatchObject({ code: 'INTERNAL_ERROR' });
  });

  it('online values equal the latest offline values for every entity', async () => {
    await incremental('2026-01-06T00:00:00Z');
    for (const airport of ['ORD', 'ATL', 'DEN', 'SFO']) {
      const [served] = await online([airport]);
      expect({ airport, value: served?.avg ?? null }).toEqual({ airport, value: await offline(airport, '2030-01-01T00:00:00Z') });
    }
  });
});
