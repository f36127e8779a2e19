import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { HttpErrorFilter } from './common/http-error.filter';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { LakeModule } from './lake/lake.module';
import { Metrics } from './metrics/metrics';
import { MetricsModule } from './metrics/metrics.module';
import { SkewChecksModule } from './monitoring/skew/skew-checks.module';
import { MaterializationModule } from './materialization/materialization.module';
import { ForkedWorkerModule } from './queue/forked-worker.module';
import { QueueModule, QueueOptions } from './queue/queue.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { PushModule } from './push/push.module';
import { RegistryModule } from './registry/registry.module';
import { RetrievalModule } from './retrieval/retrieval.module';
import { ServingModule } from './serving/serving.module';

export interface AppOptions extends QueueOptions {
  /** Run the lake maintenance schedule (maintenance.every): processes that run compute do, CLI commands do not. */
  scheduled?: boolean;
}

/** The whole product; the same module serves HTTP (`serve`) and backs the CLI commands. */
@Module({})
export class AppModule {
  /** `worker: false` (serve --no-worker, or a server beside its own worker process): this process submits jobs but takes no tasks off a Redis queue. */
  static register(config: AppConfig, options: AppOptions = { worker: true }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        AuthModule,
        MetricsModule,
        RegistryModule,
        LakeModule,
        QueueModule.register(config, options),
        MaterializationModule,
        ServingModule,
        PushModule,
        RetrievalModule,
        HealthModule,
        SkewChecksModule,
        MaintenanceModule.register({ scheduled: options.scheduled ?? false }),
        ...(options.forkWorker && config.queue.url === 'local' ? [ForkedWorkerModule.register(options.forkWorker)] : []),
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        {
          provide: APP_FILTER,
          inject: [Metrics],
          useFactory: (metrics: Metrics) => {
            const stopped = metrics.counter('featurelake_requests_stopped_total', 'Requests whose engine work was stopped before it finished: the client left, the server was stopping, or a time budget ran out', ['reason']);
            return new HttpErrorFilter((reason) => stopped.inc({ reason }));
          },
        },
      ],
    };
  }
}
