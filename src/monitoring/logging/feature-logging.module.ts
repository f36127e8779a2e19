import { Module } from '@nestjs/common';
import { TempFiles } from '../../common/temp-files';
import { DuckDbDatabase } from '../../duckdb/duckdb-database';
import { DuckDbModule } from '../../duckdb/duckdb.module';
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
  imports: [LakeModule, DuckDbModule.register({ token: LOG_DATABASE, name: 'feature-log', path: () => ':memory:' })],
  providers: [
    FeatureLogger,
    { provide: LogSink, inject: [LOG_DATABASE, DatasetService, TempFiles], useFactory: (db: DuckDbDatabase, datasets: DatasetService, temp: TempFiles) => new DuckDbLogSink(db, datasets, temp) },
  ],
  exports: [FeatureLogger],
})
// The database closes in the application-shutdown phase, after every module's
// beforeApplicationShutdown, so the logger's last flush has finished by then.
export class FeatureLoggingModule {}
