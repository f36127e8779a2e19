import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TempFiles } from '../../common/temp-files';
import { AppConfig } from '../../config/app-config';
import { DuckDbDatabase } from '../../duckdb/duckdb-database';
import { DatasetService } from '../../lake/dataset.service';
import { LakeModule } from '../../lake/lake.module';
import { DuckDbLogSink } from './duckdb.log-sink';
import { FeatureLogger } from './feature-logger';
import { LogSink } from './log-sink';

const LOG_DATABASE = Symbol('LOG_DATABASE');

/**
 * Feature logging for serving. Log files are written by an in-memory DuckDB of their own, so a
 * flush never waits on (or holds) the offline store's file.
 */
@Module({
  imports: [LakeModule],
  providers: [
    FeatureLogger,
    { provide: LOG_DATABASE, inject: [AppConfig], useFactory: (config: AppConfig) => new DuckDbDatabase(':memory:', config.stateDir) },
    { provide: LogSink, inject: [LOG_DATABASE, DatasetService, TempFiles], useFactory: (db: DuckDbDatabase, datasets: DatasetService, temp: TempFiles) => new DuckDbLogSink(db, datasets, temp) },
  ],
  exports: [FeatureLogger],
})
export class FeatureLoggingModule implements OnApplicationShutdown {
  constructor(@Inject(LOG_DATABASE) private readonly db: DuckDbDatabase) {}

  // After every module's beforeApplicationShutdown, so the logger's last flush has finished.
  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
