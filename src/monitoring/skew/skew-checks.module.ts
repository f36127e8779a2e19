import { Module } from '@nestjs/common';
import { DuckDbDatabase } from '../../duckdb/duckdb-database';
import { DuckDbModule } from '../../duckdb/duckdb.module';
import { LakeModule } from '../../lake/lake.module';
import { ObjectStoreModule } from '../../storage/object-store.module';
import { OfflineStoreModule } from '../../offline-store/offline-store.module';
import { RegistryModule } from '../../registry/registry.module';
import { RetrievalModule } from '../../retrieval/retrieval.module';
import { ConsistencyCheck } from './consistency-check';
import { DuckDbSkewEngine } from './duckdb.skew-engine';
import { SkewChecksController } from './skew-checks.controller';
import { SkewChecksService } from './skew-checks.service';
import { SkewEngine } from './skew-engine';
import { SkewMetrics } from './skew-metrics';
import { SkewResultStore } from './skew-result.store';
import { SkewScheduler } from './skew-scheduler';
import { SkewSides } from './skew-sides';
import { SkewWebhook } from './skew-webhook';

const SKEW_DATABASE = Symbol('SKEW_DATABASE');

/**
 * Skew checks. Statistics run on an in-memory DuckDB of their own (bounded by the configured
 * memory limit) over lake files, so a check never blocks materialization on the offline file;
 * only the consistency join and feature-view windows read the offline store.
 */
@Module({
  imports: [RegistryModule, LakeModule, ObjectStoreModule, OfflineStoreModule, RetrievalModule, DuckDbModule.register({ token: SKEW_DATABASE, name: 'skew', path: () => ':memory:' })],
  providers: [
    SkewChecksService,
    SkewSides,
    ConsistencyCheck,
    SkewResultStore,
    SkewMetrics,
    SkewWebhook,
    SkewScheduler,
    { provide: SkewEngine, inject: [SKEW_DATABASE], useFactory: (db: DuckDbDatabase) => new DuckDbSkewEngine(db) },
  ],
  controllers: [SkewChecksController],
  exports: [SkewChecksService, SkewScheduler],
})
export class SkewChecksModule {}
