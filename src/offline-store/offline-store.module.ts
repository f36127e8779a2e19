import { Module } from '@nestjs/common';
import { OfflineDatabase, OfflineDuckDb } from '../duckdb/duckdb.module';
import { DuckDbOfflineStore } from './duckdb.offline-store';
import { OfflineStore } from './offline-store';

/** The DuckDB offline store; its file is opened on first use (see DuckDbDatabase). */
@Module({
  imports: [OfflineDuckDb],
  providers: [{ provide: OfflineStore, inject: [OfflineDatabase], useFactory: (db: OfflineDatabase) => new DuckDbOfflineStore(db) }],
  exports: [OfflineStore],
})
export class OfflineStoreModule {}
