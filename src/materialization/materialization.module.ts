import { Module } from '@nestjs/common';
import { LakeModule } from '../lake/lake.module';
import { OfflineStoreModule } from '../offline-store/offline-store.module';
import { OnlineStoreModule } from '../online-store/online-store.module';
import { RegistryModule } from '../registry/registry.module';
import { LakeJobStore } from './lake.job-store';
import { RunningJobs } from './running-jobs';
import { DocumentStore } from '../storage/document-store';
import { ObjectStoreModule } from '../storage/object-store.module';
import { JobStore } from './job.store';
import { JobMetrics } from './job-metrics';
import { JobsController } from './jobs.controller';
import { MaterializationJobs } from './materialization-jobs.service';
import { MaterializationController } from './materialization.controller';
import { MaterializationService } from './materialization.service';
import { MaterializationTasks } from './materialization-tasks';
import { OnlineRecovery } from './online-recovery';
import { Teardown } from './teardown';

/** Materialization jobs: submitted here, queued on the configured JobQueue (QueueModule, global), their tasks run by MaterializationTasks where this process is a worker. */
@Module({
  imports: [RegistryModule, LakeModule, OfflineStoreModule, OnlineStoreModule, ObjectStoreModule],
  providers: [
    MaterializationService,
    MaterializationJobs,
    MaterializationTasks,
    OnlineRecovery,
    RunningJobs,
    JobMetrics,
    Teardown,
    { provide: JobStore, inject: [DocumentStore, RunningJobs], useFactory: (documents: DocumentStore, running: RunningJobs) => new LakeJobStore(documents, (id) => running.has(id)) },
  ],
  controllers: [MaterializationController, JobsController],
  exports: [MaterializationJobs, OnlineRecovery, Teardown],
})
export class MaterializationModule {}
