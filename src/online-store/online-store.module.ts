import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { DuckDbModule } from '../duckdb/duckdb.module';
import { Metrics } from '../metrics/metrics';
import { EmbeddedOnlineStore } from './embedded.online-store';
import { OnlineStore } from './online-store';
import { RedisOnlineStore } from './redis.online-store';

const ONLINE_DATABASE = Symbol('ONLINE_DATABASE');

/** The online store chosen by config: Redis, or the embedded DuckDB-file store. */
@Module({
  imports: [DuckDbModule.register({ token: ONLINE_DATABASE, name: 'online', path: (config) => (config.online.type === 'embedded' ? config.online.path : null) })],
  providers: [
    {
      provide: OnlineStore,
      inject: [AppConfig, ONLINE_DATABASE, Metrics],
      useFactory: (config: AppConfig, db: DuckDbDatabase | null, metrics: Metrics): OnlineStore => {
        if (config.online.type !== 'redis') return new EmbeddedOnlineStore(db as DuckDbDatabase);
        const errors = metrics.counter('featurelake_redis_errors_total', 'Online-store operations that failed on Redis (answered ONLINE_STORE_UNAVAILABLE)', ['operation']);
        return new RedisOnlineStore(config.online, (operation) => errors.inc({ operation }));
      },
    },
  ],
  exports: [OnlineStore],
})
export class OnlineStoreModule implements OnApplicationShutdown {
  constructor(@Inject(OnlineStore) private readonly store: OnlineStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
