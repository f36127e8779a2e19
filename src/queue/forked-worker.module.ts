import { DynamicModule, Module } from '@nestjs/common';
import { OnlineStore } from '../online-store/online-store';
import { OnlineStoreModule } from '../online-store/online-store.module';
import { ForkedWorker, WorkerSpawner } from './forked-worker';
import { JobQueue } from './job-queue';
import { LocalJobQueue } from './local.job-queue';

/** The worker process `serve` forks on the local queue (ForkedWorker), with the online store it writes through. */
@Module({})
export class ForkedWorkerModule {
  static register(spawn: WorkerSpawner): DynamicModule {
    return {
      module: ForkedWorkerModule,
      imports: [OnlineStoreModule],
      providers: [{ provide: ForkedWorker, inject: [JobQueue, OnlineStore], useFactory: (queue: JobQueue, online: OnlineStore) => new ForkedWorker(queue as LocalJobQueue, online, spawn) }],
    };
  }
}
