import { Module } from '@nestjs/common';
import { TempFiles } from '../common/temp-files';
import { AppConfig } from '../config/app-config';
import { OfflineDatabase, OfflineDuckDb } from '../duckdb/duckdb.module';
import { ObjectStore } from '../storage/object-store';
import { ObjectStoreModule } from '../storage/object-store.module';
import { LakeOfflineStore } from './lake.offline-store';
import { OfflineStore } from './offline-store';
import { ViewOutputs } from './view-outputs';

/** The offline store: feature views' rows in the lake, bucketed, read and written with this process's DuckDB. */
@Module({
  imports: [OfflineDuckDb, ObjectStoreModule],
  providers: [
    {
      provide: OfflineStore,
      inject: [OfflineDatabase, ObjectStore, TempFiles, AppConfig],
      useFactory: (db: OfflineDatabase, store: ObjectStore, temp: TempFiles, config: AppConfig) => new LakeOfflineStore(db, store, new ViewOutputs(store, config.offlineBuckets), temp),
    },
  ],
  exports: [OfflineStore],
})
export class OfflineStoreModule {}
