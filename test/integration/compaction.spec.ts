import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetCompaction } from '../../src/lake/dataset-compaction';
import { DatasetService } from '../../src/lake/dataset.service';
import { DuckDbFileConverter } from '../../src/lake/duckdb.file-converter';
import { ObjectStore } from '../../src/storage/object-store';
import { S3ObjectStore } from '../../src/storage/s3.object-store';
import { testCatalog } from '../support/catalog';
import { query } from '../support/duckdb-files';
import { datasetService, objectStore } from '../support/lake';
import { startS3, TestS3 } from '../support/s3-server';

const catalog = testCatalog({ project: 'compact', entities: [], datasets: [{ name: 'events', timestampField: 'ts' }], featureViews: [], featureServices: [], pushSources: [] });

/** Compaction on both lakes: same rows in ingest order, and a race lost or shared cleanly. */
describe.each(['local', 's3'] as const)('dataset compaction (lake on %s)', (kind) => {
  let dir: string;
  let s3: TestS3 | undefined;
  let store: ObjectStore;
  let datasets: DatasetService;
  let compaction: DatasetCompaction;
  let close: () => Promise<void>;
  /** Runs before the merge of each group: what another process does meanwhile. */
  let meanwhile: () => Promise<void> = async () => undefined;
  let counter = 0;
  const ingestRows = (values: number[]) => {
    const path = join(dir, `rows-${counter++}.csv`);
    writeFileSync(path, `ts,value\n${values.map((v) => `2026-01-01T00:00:${String(v % 60).padStart(2, '0')}Z,${v}`).join('\n')}\n`);
    return datasets.ingest('events', [{ path, format: 'csv', name: `rows-${counter}.csv` }]);
  };
  const rowsOf = async (snapshotId?: number) => {
    const snapshot = (await datasets.snapshot('events', snapshotId))!;
    const files = await datasets.localFiles(snapshot);
    return (await query(`SELECT value FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`)).map((r) => Number(r.value));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-compact-'));
    if (kind === 's3') s3 = await startS3();
    store = objectStore(kind, dir, s3);
    const built = datasetService(store, catalog, dir);
    ({ datasets, close } = built);
    const converter = built.converter;
    const racing = Object.assign(Object.create(DuckDbFileConverter.prototype), converter, {
      merge: async (...args: Parameters<DuckDbFileConverter['merge']>) => {
        await meanwhile();
        return converter.merge(...args);
      },
    }) as DuckDbFileConverter;
    compaction = new DatasetCompaction(datasets, racing, store, built.temp);
  });

  afterAll(async () => {
    await close();
    if (store instanceof S3ObjectStore) store.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    meanwhile = async () => undefined;
  });

  it('rewrites many small files as one with the same rows, in the order they were ingested; older snapshots keep theirs', async () => {
    for (let i = 0; i < 6; i++) await ingestRows([i * 3, i * 3 + 1, i * 3 + 2]);
    const before = await datasets.snapshot('events');
    const result = await compaction.compact('events');
    expect(result).toMatchObject({ mergedFiles: 6, newFiles: 1, snapshot: { snapshotId: 7, operation: 'compact', rowCount: 18, added: { files: 0, rows: 0 } } });
    expect(result.snapshot!.lastRewrite).toBeUndefined(); // no row was taken away: the merged file says which snapshots added its rows
    expect(result.snapshot!.files).toEqual([expect.objectContaining({ rows: 18, addedInSnapshot: 6, firstAddedInSnapshot: 1, sourceName: 'compaction of 6 files', mergedSha256: before!.files.map((f) => f.sourceSha256) })]);
    expect(await rowsOf()).toEqual(Array.from({ length: 18 }, (_, i) => i));
    expect(await rowsOf(6)).toEqual(Array.from({ length: 18 }, (_, i) => i)); // still its six files
    expect((await compaction.compact('events')).snapshot).toBeNull(); // one file: nothing to do
  });

  it('merges only the files added up to a snapshot when told (those every view has consumed)', async () => {
    const latest = (await datasets.snapshot('events'))!; // one merged file, from the test above
    await ingestRows([50]);
    await ingestRows([51]);
    await ingestRows([52]);
    const upTo = latest.snapshotId + 2; // the merged file and the first two new ones
    const result = await compaction.compactAs({ name: 'events', timestampField: 'ts' }, { consumedUpTo: upTo });
    expect(result).toMatchObject({ mergedFiles: 3, newFiles: 1, consumedUpTo: upTo });
    expect(result.snapshot!.files.map((f) => [f.rows, f.firstAddedInSnapshot ?? f.addedInSnapshot, f.addedInSnapshot])).toEqual([[1, upTo + 1, upTo + 1], [20, 1, upTo]]);
    expect((await rowsOf()).sort((a, b) => a - b)).toEqual([...Array.from({ length: 18 }, (_, i) => i), 50, 51, 52]);
  });

  it('keeps an ingest that commits while it runs', async () => {
    await ingestRows([100]);
    meanwhile = async () => {
      meanwhile = async () => undefined;
      await ingestRows([200]);
    };
    const result = await compaction.compact('events');
    expect(result.snapshot!.rowCount).toBe(23);
    expect((await rowsOf()).sort((a, b) => a - b)).toEqual([...Array.from({ length: 18 }, (_, i) => i), 50, 51, 52, 100, 200]);
  });

  it('gives up cleanly when a rollback takes its files away meanwhile: nothing changed, its upload removed', async () => {
    await ingestRows([300]);
    const latest = (await datasets.snapshot('events'))!;
    meanwhile = async () => {
      meanwhile = async () => undefined;
      await datasets.rollback('events', latest.snapshotId - 1);
    };
    const data = async () => (await store.list('datasets/events/data/')).sort();
    const objects = await data();
    await expect(compaction.compact('events')).rejects.toMatchObject({ code: 'COMMIT_CONFLICT' });
    expect((await datasets.snapshot('events'))!).toMatchObject({ operation: 'rollback', rolledBackTo: latest.snapshotId - 1 });
    expect(await data()).toEqual(objects);
  });
});
