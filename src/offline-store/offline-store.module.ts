import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { DuckDbOfflineStore } from './duckdb.offline-store';
import { OfflineStore } from './offline-store';

const OFFLINE_DATABASE = Symbol('OFFLINE_DATABASE');

/** The DuckDB offline store; its file is opened on first use (see DuckDbDatabase). */
@Module({
  providers: [
    {
      provide: OFFLINE_DATABASE,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new DuckDbDatabase(config.offlinePath, config.stateDir),
    },
    { provide: OfflineStore, inject: [OFFLINE_DATABASE], useFactory: (db: DuckDbDatabase) => new DuckDbOfflineStore(db) },
  ],
  exports: [OfflineStore],
})
export class OfflineStoreModule implements OnApplicationShutdown {
  constructor(@Inject(OFFLINE_DATABASE) private readonly db: DuckDbDatabase) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
