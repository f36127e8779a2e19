import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TempFiles } from '../../src/common/temp-files';
import { AppConfig } from '../../src/config/app-config';
import { defaultLimits } from '../../src/config/config-limits';
import { DatasetService } from '../../src/lake/dataset.service';
import { IdempotencyStore } from '../../src/lake/idempotency.store';
import { IngestOnce } from '../../src/lake/ingest-once';
import { DocumentStore } from '../../src/storage/document-store';
import { ObjectStore } from '../../src/storage/object-store';
import { S3ObjectStore } from '../../src/storage/s3.object-store';
import { testCatalog } from '../support/catalog';
import { datasetService, objectStore } from '../support/lake';
import { startS3, TestS3 } from '../support/s3-server';

const catalog = testCatalog({ project: 'once', entities: [], datasets: [{ name: 'events', timestampField: 'ts' }], featureViews: [], featureServices: [], pushSources: [] });

/** HTTP ingest with an Idempotency-Key: at most once, a crashed first attempt included. */
describe.each(['local', 's3'] as const)('ingest with an Idempotency-Key (lake on %s)', (kind) => {
  let dir: string;
  let s3: TestS3 | undefined;
  let store: ObjectStore;
  let datasets: DatasetService;
  let once: IngestOnce;
  let idempotency: IdempotencyStore;
  let close: () => Promise<void>;
  const csv = (name: string, value: number) => {
    const path = join(dir, name);
    writeFileSync(path, `ts,value\n2026-01-01T00:00:00Z,${value}\n`);
    return path;
  };
  /** What IngestOnce records of a request: the format, allow_duplicate and the body's digest. */
  const requestHashOf = (path: string, allowDuplicate = true) => {
    const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
    return createHash('sha256').update(`csv:${allowDuplicate}:${digest}`).digest('hex');
  };
  const upload = (path: string, key: string, allowDuplicate = true) => once.ingest('events', createReadStream(path), 'text/csv', { allowDuplicate, key });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-once-'));
    if (kind === 's3') s3 = await startS3();
    store = objectStore(kind, dir, s3);
    ({ datasets, close } = datasetService(store, catalog, dir));
    idempotency = new IdempotencyStore(new DocumentStore(store));
    const config = AppConfig.of({ limits: defaultLimits() } as AppConfig);
    once = new IngestOnce(config, datasets, idempotency, new TempFiles(join(dir, 'tmp-once')));
  });

  afterAll(async () => {
    await close();
    if (store instanceof S3ObjectStore) store.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a retry with the first answer (even with allow_duplicate), and refuses the key for another body', async () => {
    const body = csv('a.csv', 1);
    const first = await upload(body, 'k-1');
    expect(first).toMatchObject({ snapshotId: 1, rowCount: 1 });
    expect(first.replayed).toBeUndefined();
    const retry = await upload(body, 'k-1');
    expect(retry).toMatchObject({ snapshotId: 1, rowCount: 1, replayed: true });
    expect((await datasets.snapshot('events'))!.snapshotId).toBe(1);
    await expect(upload(csv('b.csv', 2), 'k-1')).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    await expect(upload(body, 'k-1', false)).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' }); // another allow_duplicate is another request
  });

  it('finds the commit of a first attempt that died before answering, instead of ingesting again', async () => {
    const body = csv('c.csv', 3);
    // The first attempt: its record, then its commit, then nothing (the process was killed).
    const staged = datasets.newFileKey('events');
    await idempotency.begin('ingest/events', 'k-2', { state: 'pending', requestHash: requestHashOf(body), createdAt: new Date().toISOString(), stagedKeys: [staged] });
    const committed = await datasets.ingest('events', [{ path: body, format: 'csv', name: 'request body' }], { fileKeys: [staged], allowDuplicate: true });
    const retry = await upload(body, 'k-2');
    expect(retry).toMatchObject({ snapshotId: committed.snapshotId });
    expect((await datasets.snapshot('events'))!.snapshotId).toBe(committed.snapshotId);
    expect(await idempotency.get('ingest/events', 'k-2')).toMatchObject({ state: 'done', response: { snapshotId: committed.snapshotId } });
  });

  it('refuses a key whose first attempt may still be running, and forgets a key whose attempt failed', async () => {
    const body = csv('d.csv', 4);
    const before = (await datasets.snapshot('events'))!.snapshotId;
    await idempotency.begin('ingest/events', 'k-3', { state: 'pending', requestHash: requestHashOf(body), createdAt: new Date().toISOString(), stagedKeys: [datasets.newFileKey('events')] });
    await expect(upload(body, 'k-3')).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE' });
    expect((await datasets.snapshot('events'))!.snapshotId).toBe(before);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'other,columns\n1,2\n');
    await expect(upload(bad, 'k-4')).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    expect(await idempotency.get('ingest/events', 'k-4')).toBeNull();
  });
});
