import { testDatabase } from './duckdb-files';
import { join } from 'node:path';
import { TempFiles } from '../../src/common/temp-files';
import { AppConfig, Limits } from '../../src/config/app-config';
import { defaultLimits } from '../../src/config/config-limits';
import { FeatureCatalog } from '../../src/core/catalog';
import { DatasetService } from '../../src/lake/dataset.service';
import { DuckDbFileConverter } from '../../src/lake/duckdb.file-converter';
import { DuckDbExpectationChecks } from '../../src/lake/duckdb.expectation-checks';
import { IngestChecks } from '../../src/lake/ingest-checks';
import { Metrics } from '../../src/metrics/metrics';
import { LocalObjectStore } from '../../src/storage/local.object-store';
import { ObjectStore } from '../../src/storage/object-store';
import { S3ObjectStore } from '../../src/storage/s3.object-store';
import { RegistryService } from '../../src/registry/registry.service';
import { TestS3 } from './s3-server';
import { ShutdownSignal } from '../../src/common/shutdown-signal';
import { ComputeCalls } from '../../src/queue/compute-calls';
import { LocalJobQueue } from '../../src/queue/local.job-queue';
import { ScratchObjects } from '../../src/storage/scratch-objects';
import { DocumentStore } from '../../src/storage/document-store';

/** An object store of either kind rooted in `dir` (local) or a prefix of the test bucket (s3). */
export function objectStore(kind: 'local' | 's3', dir: string, s3?: TestS3, prefix = 'lake'): ObjectStore {
  if (kind === 'local') return new LocalObjectStore(join(dir, prefix));
  return new S3ObjectStore(
    {
      kind: 's3',
      uri: `s3://${s3!.bucket}/${prefix}`,
      bucket: s3!.bucket,
      prefix,
      endpoint: s3!.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      timeoutMs: 30_000,
      credentials: { accessKeyId: s3!.accessKeyId, secretAccessKey: s3!.secretAccessKey },
    },
    join(dir, 'cache'),
  );
}

/** DatasetService wired to real adapters, with the registry replaced by a fixed catalog. */
export function datasetService(
  store: ObjectStore,
  catalog: FeatureCatalog,
  dir: string,
  limits: Partial<Limits> = {},
): { datasets: DatasetService; converter: DuckDbFileConverter; temp: TempFiles; close: () => Promise<void> } {
  const config = AppConfig.of({ limits: { ...defaultLimits(), maxUploadBytes: 2 ** 30, ...limits } } as AppConfig);
  const registry = { catalog: async () => catalog } as unknown as RegistryService;
  const db = testDatabase(':memory:', dir);
  const converter = new DuckDbFileConverter(db, { maxRows: config.limits.maxIngestRows, maxBytes: config.limits.maxIngestBytes });
  const temp = new TempFiles(join(dir, 'tmp'));
  const calls = new ComputeCalls(new LocalJobQueue(new ShutdownSignal()), config);
  const checks = new IngestChecks(new DuckDbExpectationChecks(db), temp, new Metrics());
  const datasets = new DatasetService(config, store, converter, registry, temp, calls, new ScratchObjects(store, temp), checks, new DocumentStore(store));
  return { datasets, converter, temp, close: () => db.close() };
}
