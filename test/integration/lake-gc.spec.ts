import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../../src/config/app-config';
import { defaultLimits } from '../../src/config/config-limits';
import { DatasetService } from '../../src/lake/dataset.service';
import { LakeGc } from '../../src/maintenance/lake-gc';
import { SnapshotRetention } from '../../src/maintenance/snapshot-retention';
import { DatasetCompaction } from '../../src/lake/dataset-compaction';
import { DocumentStore } from '../../src/storage/document-store';
import { TempFiles } from '../../src/common/temp-files';
import { ObjectStore } from '../../src/storage/object-store';
import { S3ObjectStore } from '../../src/storage/s3.object-store';
import { testCatalog } from '../support/catalog';
import { query } from '../support/duckdb-files';
import { datasetService, objectStore } from '../support/lake';
import { startS3, TestS3 } from '../support/s3-server';

const catalog = testCatalog({ project: 'gc', entities: [], datasets: [{ name: 'events', timestampField: 'ts' }], featureViews: [], featureServices: [], pushSources: [] });

/** GC on both lakes: what no snapshot references goes once it is old enough; every snapshot stays readable. */
describe.each(['local', 's3'] as const)('lake GC (lake on %s)', (kind) => {
  let dir: string;
  let s3: TestS3 | undefined;
  let store: ObjectStore;
  let datasets: DatasetService;
  let gc: LakeGc;
  let retention: SnapshotRetention;
  let compaction: DatasetCompaction;
  let close: () => Promise<void>;
  const ingest = (value: number) => {
    const path = join(dir, `v${value}.csv`);
    writeFileSync(path, `ts,value\n2026-01-01T00:00:00Z,${value}\n`);
    return datasets.ingest('events', [{ path, format: 'csv', name: `v${value}.csv` }]);
  };
  const valuesAt = async (snapshotId: number) => {
    const files = await datasets.localFiles((await datasets.snapshot('events', snapshotId))!);
    return (await query(`SELECT value FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}]) ORDER BY value`)).map((r) => Number(r.value));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-gc-'));
    if (kind === 's3') s3 = await startS3();
    store = objectStore(kind, dir, s3);
    let converter;
    let temp: TempFiles;
    ({ datasets, close, converter, temp } = datasetService(store, catalog, dir));
    gc = new LakeGc(AppConfig.of({ limits: defaultLimits() } as AppConfig), store, new DocumentStore(store));
    retention = new SnapshotRetention(store, new DocumentStore(store));
    compaction = new DatasetCompaction(datasets, converter, store, temp);
  });

  afterAll(async () => {
    await close();
    if (store instanceof S3ObjectStore) store.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await store.delete(await store.list(''));
  });

  it('deletes unreferenced data, quarantine and scratch objects past the grace period, and nothing any snapshot references', async () => {
    await ingest(1);
    await ingest(2);
    await datasets.rollback('events', 1); // snapshot 3: the file of snapshot 2 is referenced by snapshot 2 alone
    const orphans = ['datasets/events/data/killed-ingest.parquet', 'datasets/events/quarantine/killed.parquet', 'scratch/results/abandoned.parquet'];
    for (const key of orphans) await store.put(key, 'left behind');
    const everything = await store.list('');

    expect(await gc.collect()).toEqual({ deleted: [], young: 3, restored: [] }); // the default grace: they may belong to a running ingest
    expect(await gc.collect({ graceSeconds: 0, dryRun: true })).toEqual({ deleted: orphans, young: 0, restored: [] });
    expect(await store.list('')).toEqual(everything);

    expect(await gc.collect({ graceSeconds: 0 })).toEqual({ deleted: orphans, young: 0, restored: [] });
    expect(await store.list('')).toEqual(everything.filter((k) => !orphans.includes(k)));
    expect([await valuesAt(1), await valuesAt(2), await valuesAt(3)]).toEqual([[1], [1, 2], [1]]);
    expect(await gc.collect({ graceSeconds: 0 })).toEqual({ deleted: [], young: 0, restored: [] });
  });

  it('expires snapshots under retention; their files go once the expiry is older than the grace period, never what a pinned snapshot holds', async () => {
    for (const v of [1, 2, 3]) await ingest(v);
    const compacted = await compaction.compact('events'); // snapshot 4: one merged file; the three small ones are referenced by 1–3 alone
    expect(compacted.snapshot?.snapshotId).toBe(4);
    const small = (await datasets.snapshot('events', 3))!.files.map((f) => f.key);
    const pins = new Map([['events', new Set([2])]]); // a training set saved from snapshot 2

    expect(await retention.expire('events', { keepSnapshots: 1 }, pins.get('events')!, { dryRun: true })).toEqual([1, 3]);
    expect(await retention.expire('events', { keepSnapshots: 1 }, pins.get('events')!)).toEqual([1, 3]);
    expect(await datasets.snapshot('events', 3)).toBeNull(); // gone from the log…
    expect((await datasets.snapshot('events', 3, { includeExpired: true }))?.files).toHaveLength(3); // …kept aside for the grace period
    await expect(datasets.rollback('events', 3)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND', message: expect.stringMatching(/expired under the dataset's retention/) });

    // Within the grace period nothing goes: a reader that started on snapshot 3 finishes.
    expect(await gc.collect({ pins })).toEqual({ deleted: [], young: 0, restored: [] });
    const swept = await gc.collect({ graceSeconds: 0, pins });
    // The third small file was held by snapshot 3 alone; the first two are in pinned snapshot 2.
    expect(swept.deleted).toEqual([small[2], 'datasets/events/expired/00000000000000000001.json', 'datasets/events/expired/00000000000000000003.json']);
    expect(await datasets.snapshot('events', 3, { includeExpired: true })).toBeNull();
    expect([await valuesAt(2), await valuesAt(4)]).toEqual([[1, 2], [1, 2, 3]]);
  });

  it("deletes views' manifests no reader can hold and the files only they listed, once past the grace period", async () => {
    const shape = 'views/scores/abc123/';
    const manifest = (files: string[]) => JSON.stringify({ bucketStates: [{ files: files.map((key) => ({ key })), windows: [] }] });
    await store.put(`${shape}manifests/00000000000000000001.json`, manifest([`${shape}bucket=000/1-a.parquet`, `${shape}bucket=000/1-b.parquet`]));
    await store.put(`${shape}manifests/00000000000000000002.json`, manifest([`${shape}bucket=000/2-c.parquet`])); // a compaction: c replaced a and b
    for (const f of ['1-a', '1-b', '2-c', '3-killed']) await store.put(`${shape}bucket=000/${f}.parquet`, 'rows');

    // Within the grace period: manifest 1 was the latest until just now (a reader may hold it), and the killed task's file is young.
    expect(await gc.collect()).toEqual({ deleted: [], young: 1, restored: [] });
    const swept = await gc.collect({ graceSeconds: 0 });
    expect(swept.deleted).toEqual([`${shape}manifests/00000000000000000001.json`, `${shape}bucket=000/1-a.parquet`, `${shape}bucket=000/1-b.parquet`, `${shape}bucket=000/3-killed.parquet`]);
    expect(await store.list(shape)).toEqual([`${shape}bucket=000/2-c.parquet`, `${shape}manifests/00000000000000000002.json`]);
  });

  it('puts back an expired snapshot that a training set saved meanwhile pins', async () => {
    for (const v of [1, 2]) await ingest(v);
    expect(await retention.expire('events', { keepSnapshots: 1 }, new Set())).toEqual([1]);
    const result = await gc.collect({ graceSeconds: 0, pins: new Map([['events', new Set([1])]]) });
    expect(result).toEqual({ deleted: [], young: 0, restored: ['events@1'] });
    expect(await valuesAt(1)).toEqual([1]);
    expect(await store.list('datasets/events/expired/')).toEqual([]);
  });
});
