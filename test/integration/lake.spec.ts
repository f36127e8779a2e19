import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DatasetService } from '../../src/lake/dataset.service';
import { ObjectStore } from '../../src/storage/object-store';
import { S3ObjectStore } from '../../src/storage/s3.object-store';
import { testCatalog } from '../support/catalog';
import { query, writeFile } from '../support/duckdb-files';
import { datasetService, objectStore } from '../support/lake';
import { startS3, TestS3 } from '../support/s3-server';

const FLIGHTS = join(__dirname, '../../node_modules/vega-datasets/data/flights-3m.parquet');
const catalog = testCatalog({
  project: 'lake',
  entities: [{ name: 'airport', joinKeys: [{ name: 'airport', type: 'string' }] }],
  datasets: [{ name: 'flights', timestampField: 'date' }, { name: 'airports' }],
  featureViews: [],
  featureServices: [],
  pushSources: [],
});

/** Ingest through real DuckDB into both lake backends: snapshots, and failures that leave no trace. */
describe.each(['local', 's3'] as const)('lake datasets on %s', (kind) => {
  let dir: string;
  let s3: TestS3 | undefined;
  let store: ObjectStore;
  let datasets: DatasetService;
  let closeDatasets: () => Promise<void>;
  let sample: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-lake-'));
    if (kind === 's3') s3 = await startS3();
    store = objectStore(kind, dir, s3);
    ({ datasets, close: closeDatasets } = datasetService(store, catalog, dir));
    sample = join(dir, 'flights-sample.parquet');
    await writeFile(sample, `SELECT * FROM read_parquet('${FLIGHTS}') WHERE date < TIMESTAMP '2001-01-03'`);
  });

  afterAll(async () => {
    await closeDatasets();
    if (store instanceof S3ObjectStore) store.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const lakeState = () => store.list('');

  it('ingests real flights as snapshot 1 with schema, row count and time range', async () => {
    const snapshot = await datasets.ingest('flights', [{ path: sample, format: 'parquet', name: 'flights-sample.parquet' }]);
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${sample}')`);
    expect(snapshot).toMatchObject({ snapshotId: 1, parentSnapshotId: null, rowCount: n, added: { files: 1, rows: n } });
    expect(snapshot.timeRange).toEqual({ min: '2001-01-01T00:01:00Z', max: expect.stringMatching(/^2001-01-02T/) });
    expect(snapshot.schema.map((c) => `${c.name}:${c.type}`)).toEqual(['date:TIMESTAMP', 'delay:BIGINT', 'distance:BIGINT', 'origin:VARCHAR', 'destination:VARCHAR']);
    const [local] = await datasets.localFiles(snapshot);
    const [{ m }] = await query(`SELECT count(*)::INTEGER AS m FROM read_parquet('${local}')`);
    expect(m).toBe(n);
  });

  it('appends CSV and JSON Lines with the columns in another order, cast to the dataset schema', async () => {
    const csv = join(dir, 'more.csv');
    writeFileSync(csv, 'origin,destination,date,delay,distance\nORD,LGA,2001-02-01T10:00:00Z,5,733\nSFO,JFK,2001-02-01 11:00:00,-3,2586\n');
    const jsonl = join(dir, 'more.jsonl');
    writeFileSync(jsonl, '{"date":"2001-02-02T00:00:00+02:00","delay":1,"distance":10,"origin":"A","destination":"B"}\n');
    const snapshot = await datasets.ingest('flights', [
      { path: csv, format: 'csv', name: 'more.csv' },
      { path: jsonl, format: 'jsonl', name: 'more.jsonl' },
    ]);
    expect(snapshot).toMatchObject({ snapshotId: 2, parentSnapshotId: 1, added: { files: 2, rows: 3 } });
    expect(snapshot.files).toHaveLength(3);
    const files = await datasets.localFiles(snapshot);
    const rows = await query(`SELECT date::VARCHAR AS d FROM read_parquet([${files.slice(1).map((f) => `'${f}'`).join(',')}]) ORDER BY d`);
    expect(rows.map((r) => r.d)).toEqual(['2001-02-01 10:00:00', '2001-02-01 11:00:00', '2001-02-01 22:00:00']);
  });

  it('keeps every snapshot readable after later commits', async () => {
    expect((await datasets.snapshot('flights', 1))?.files).toHaveLength(1);
    expect((await datasets.snapshot('flights'))?.snapshotId).toBe(2);
    const details = await datasets.describe('flights');
    expect(details.snapshots.map((s) => s.snapshotId)).toEqual([1, 2]);
  });

  const rejected: [string, string, string, RegExp][] = [
    ['a file that is not Parquet', 'garbage.parquet', 'INVALID_FILE', /cannot be read as parquet/],
    ['a file without the timestamp column', 'no-date.csv', 'SCHEMA_MISMATCH', /has no column date/],
    ['a file with other columns', 'extra.csv', 'SCHEMA_MISMATCH', /unexpected extra/],
    ['a file whose values do not fit the schema', 'bad-delay.csv', 'SCHEMA_MISMATCH', /do not fit/],
    ['rows without an event time', 'null-date.csv', 'SCHEMA_MISMATCH', /have no date/],
    ['an empty file', 'empty.csv', 'INVALID_FILE', /is empty/],
  ];
  const contents: Record<string, string> = {
    'garbage.parquet': 'this is not parquet',
    'no-date.csv': 'delay,distance,origin,destination\n1,2,A,B\n',
    'extra.csv': 'date,delay,distance,origin,destination,extra\n2001-01-01,1,2,A,B,x\n',
    'bad-delay.csv': 'date,delay,distance,origin,destination\n2001-01-01,late,2,A,B\n',
    'null-date.csv': 'date,delay,distance,origin,destination\n2001-01-01,1,2,A,B\n,1,2,A,B\n',
    'empty.csv': '',
  };

  it.each(rejected)('rejects %s and leaves the lake exactly as it was', async (_what, file, code, message) => {
    const path = join(dir, file);
    writeFileSync(path, contents[file]);
    const before = await lakeState();
    const error = await datasets
      .ingest('flights', [{ path, format: file.endsWith('.csv') ? 'csv' : 'parquet', name: file }])
      .catch((e: unknown) => e as { code: string; message: string });
    expect(error).toMatchObject({ message: expect.stringMatching(message) });
    expect((error as { code: string }).code).toBe(code);
    expect(await lakeState()).toEqual(before);
  });

  it('commits nothing when one file of a multi-file ingest is bad', async () => {
    const bad = join(dir, 'bad-delay.csv');
    const before = await lakeState();
    await expect(
      datasets.ingest('flights', [
        { path: sample, format: 'parquet', name: 'good.parquet' },
        { path: bad, format: 'csv', name: 'bad-delay.csv' },
      ]),
    ).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    expect(await lakeState()).toEqual(before);
  });

  it('rejects a dataset that is not declared, and an upload of an unsupported type', async () => {
    await expect(datasets.ingest('nope', [{ path: sample, format: 'parquet', name: 'x' }])).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' });
    await expect(datasets.ingestStream('flights', Readable.from(['x']), 'image/png')).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('loses no commit when ingests run concurrently', async () => {
    const before = (await datasets.snapshot('flights'))!;
    const csv = (i: number) => {
      const path = join(dir, `one-${i}.csv`);
      writeFileSync(path, `date,delay,distance,origin,destination\n2001-03-01,${i},2,A,B\n`);
      return path;
    };
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => datasets.ingestStream('flights', createReadStream(csv(i)), 'text/csv')));
    const ids = results.map((s) => s.snapshotId).sort((a, b) => a - b);
    expect(ids).toEqual([1, 2, 3, 4, 5, 6].map((i) => before.snapshotId + i));
    const latest = (await datasets.snapshot('flights'))!;
    expect(latest.rowCount).toBe(before.rowCount + 6);
    expect(latest.files).toHaveLength(before.files.length + 6);
  });

  it('adds the same bytes once: again, it names the snapshot that holds them, also when ingests of them race; allowDuplicate adds them anyway', async () => {
    const csv = join(dir, 'same.csv');
    writeFileSync(csv, 'date,delay,distance,origin,destination\n2001-04-01,7,2,A,B\n');
    const input = { path: csv, format: 'csv' as const, name: 'same.csv' };
    const first = await datasets.ingest('flights', [input]);
    expect(first.skipped).toBeUndefined();
    const objects = await lakeState();
    const again = await datasets.ingest('flights', [input]);
    expect(again).toMatchObject({ snapshotId: first.snapshotId, rowCount: first.rowCount, skipped: [{ file: 'same.csv', snapshotId: first.snapshotId }] });
    expect(await lakeState()).toEqual(objects); // nothing uploaded, nothing committed

    const other = join(dir, 'racing.csv');
    writeFileSync(other, 'date,delay,distance,origin,destination\n2001-04-02,8,2,A,B\n');
    const raced = await Promise.all(Array.from({ length: 5 }, () => datasets.ingestStream('flights', createReadStream(other), 'text/csv')));
    const committed = raced.filter((s) => !s.skipped);
    expect(committed).toHaveLength(1);
    expect(raced.filter((s) => s.skipped).map((s) => s.skipped)).toEqual(Array.from({ length: 4 }, () => [{ file: 'request body', snapshotId: committed[0].snapshotId }]));
    const latest = (await datasets.snapshot('flights'))!;
    expect(latest.files.filter((f) => f.sourceName === 'request body' && f.rows === 1).length).toBeGreaterThan(0);
    expect(latest.snapshotId).toBe(committed[0].snapshotId);
    expect((await lakeState()).filter((k) => k.startsWith('datasets/flights/data/')).length).toBe(latest.files.length); // the racers' uploads are gone

    const forced = await datasets.ingest('flights', [input], { allowDuplicate: true });
    expect(forced).toMatchObject({ snapshotId: latest.snapshotId + 1, rowCount: latest.rowCount + 1 });
    expect(forced.skipped).toBeUndefined();
  });

  it('ingests a dataset without a timestamp field (static reference data)', async () => {
    const csv = join(dir, 'airports.csv');
    writeFileSync(csv, 'iata,name\nORD,Chicago O\'Hare\n');
    const snapshot = await datasets.ingest('airports', [{ path: csv, format: 'csv', name: 'airports.csv' }]);
    expect(snapshot).toMatchObject({ rowCount: 1, timeRange: null });
    expect((await datasets.list()).map((d) => d.name)).toEqual(['airports', 'flights']);
  });
});
