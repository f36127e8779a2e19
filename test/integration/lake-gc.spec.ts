import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../../src/config/app-config';
import { defaultLimits } from '../../src/config/config-limits';
import { DatasetService } from '../../src/lake/dataset.service';
import { LakeGc } from '../../src/lake/lake-gc';
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
    ({ datasets, close } = datasetService(store, catalog, dir));
    gc = new LakeGc(AppConfig.of({ limits: defaultLimits() } as AppConfig), store);
  });

  afterAll(async () => {
    await close();
    if (store instanceof S3ObjectStore) store.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes unreferenced data, quarantine and scratch objects past the grace period, and nothing any snapshot references', async () => {
    await ingest(1);
    await ingest(2);
    await datasets.rollback('events', 1); // snapshot 3: the file of snapshot 2 is referenced by snapshot 2 alone
    const orphans = ['datasets/events/data/killed-ingest.parquet', 'datasets/events/quarantine/killed.parquet', 'scratch/results/abandoned.parquet'];
    for (const key of orphans) await store.put(key, 'left behind');
    const everything = await store.list('');

    expect(await gc.collect()).toEqual({ deleted: [], young: 3 }); // the default grace: they may belong to a running ingest
    expect(await gc.collect({ graceSeconds: 0, dryRun: true })).toEqual({ deleted: orphans, young: 0 });
    expect(await store.list('')).toEqual(everything);

    expect(await gc.collect({ graceSeconds: 0 })).toEqual({ deleted: orphans, young: 0 });
    expect(await store.list('')).toEqual(everything.filter((k) => !orphans.includes(k)));
    expect([await valuesAt(1), await valuesAt(2), await valuesAt(3)]).toEqual([[1], [1, 2], [1]]);
    expect(await gc.collect({ graceSeconds: 0 })).toEqual({ deleted: [], young: 0 });
  });
});
