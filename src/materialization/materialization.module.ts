import { Module } from '@nestjs/common';
import { OfflineDatabase, OfflineDuckDb } from '../duckdb/duckdb.module';
import { LakeModule } from '../lake/lake.module';
import { OfflineStoreModule } from '../offline-store/offline-store.module';
import { OnlineStoreModule } from '../online-store/online-store.module';
import { RegistryModule } from '../registry/registry.module';
import { DuckDbJobStore } from './duckdb.job-store';
import { JobStore } from './job.store';
import { JobsController } from './jobs.controller';
import { MaterializationJobs } from './materialization-jobs.service';
import { MaterializationController } from './materialization.controller';
import { MaterializationService } from './materialization.service';
import { OnlineRecovery } from './online-recovery';

@Module({
  imports: [RegistryModule, LakeModule, OfflineStoreModule, OnlineStoreModule, OfflineDuckDb],
  providers: [
    MaterializationService,
    MaterializationJobs,
    OnlineRecovery,
    { provide: JobStore, inject: [OfflineDatabase], useFactory: (db: OfflineDatabase) => new DuckDbJobStore(db) },
  ],
  controllers: [MaterializationController, JobsController],
  exports: [MaterializationJobs, OnlineRecovery],
})
export class MaterializationModule {}
