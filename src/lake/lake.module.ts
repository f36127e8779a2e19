import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { DuckDbModule } from '../duckdb/duckdb.module';
import { RegistryModule } from '../registry/registry.module';
import { DatasetService } from './dataset.service';
import { IdempotencyStore } from './idempotency.store';
import { DuckDbFileConverter } from './duckdb.file-converter';
import { FileConverter } from './file-converter';
import { LakeMetrics } from './lake-metrics';
import { DuckDbExpectationChecks } from './duckdb.expectation-checks';
import { ExpectationChecks } from './expectation-checks';
import { IngestChecks } from './ingest-checks';
import { IngestOnce } from './ingest-once';
import { DatasetCompaction } from './dataset-compaction';
import { LakeController } from './lake.controller';
import { ObjectStoreModule } from '../storage/object-store.module';

const CONVERTER_DATABASE = Symbol('CONVERTER_DATABASE');

/** Datasets in the lake: ingest, snapshots, catalog. Conversion runs on an in-memory DuckDB. */
@Module({
  imports: [ObjectStoreModule, RegistryModule, DuckDbModule.register({ token: CONVERTER_DATABASE, name: 'ingest', path: () => ':memory:' })],
  providers: [
    DatasetService,
    IdempotencyStore,
    LakeMetrics,
    IngestChecks,
    IngestOnce,
    DatasetCompaction,
    { provide: ExpectationChecks, inject: [CONVERTER_DATABASE], useFactory: (db: DuckDbDatabase) => new DuckDbExpectationChecks(db) },
    {
      provide: FileConverter,
      inject: [CONVERTER_DATABASE, AppConfig],
      useFactory: (db: DuckDbDatabase, config: AppConfig) => new DuckDbFileConverter(db, { maxRows: config.limits.maxIngestRows, maxBytes: config.limits.maxIngestBytes }),
    },
  ],
  controllers: [LakeController],
  exports: [DatasetService, IdempotencyStore, IngestChecks, DatasetCompaction],
})
export class LakeModule {}
