import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { EmbeddedOnlineStore } from './embedded.online-store';
import { OnlineStore } from './online-store';
import { RedisOnlineStore } from './redis.online-store';

const ONLINE_DATABASE = Symbol('ONLINE_DATABASE');

/** The online store chosen by config: Redis, or the embedded DuckDB-file store. */
@Module({
  providers: [
    {
      provide: ONLINE_DATABASE,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        config.online.type === 'embedded' ? new DuckDbDatabase(config.online.path, config.stateDir) : null,
    },
    {
      provide: OnlineStore,
      inject: [AppConfig, ONLINE_DATABASE],
      useFactory: (config: AppConfig, db: DuckDbDatabase | null): OnlineStore =>
        config.online.type === 'redis' ? new RedisOnlineStore(config.online) : new EmbeddedOnlineStore(db as DuckDbDatabase),
    },
  ],
  exports: [OnlineStore],
})
export class OnlineStoreModule implements OnApplicationShutdown {
  constructor(
    @Inject(ONLINE_DATABASE) private readonly db: DuckDbDatabase | null,
    @Inject(OnlineStore) private readonly store: OnlineStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db?.close();
    if (this.store instanceof RedisOnlineStore) await this.store.close();
  }
}
