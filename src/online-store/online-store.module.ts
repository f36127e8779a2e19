import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { DuckDbModule } from '../duckdb/duckdb.module';
import { Metrics } from '../metrics/metrics';
import { EmbeddedOnlineStore } from './embedded.online-store';
import { OnlineStore } from './online-store';
import { RedisOnlineStore } from './redis.online-store';
import { ParentOnlineStore } from './parent.online-store';
import { IpcChannel, PARENT_CHANNEL } from '../queue/ipc-channel';

const ONLINE_DATABASE = Symbol('ONLINE_DATABASE');

/** Whether this process is a worker that `serve` forked: its online store is then the server's. */
const forked = (config: AppConfig) => config.queue.url === 'parent';

/** The online store chosen by config: Redis, or the embedded DuckDB-file store (in a forked worker, the server's, across the channel). */
@Module({
  imports: [DuckDbModule.register({ token: ONLINE_DATABASE, name: 'online', path: (config) => (config.online.type === 'embedded' && !forked(config) ? config.online.path : null) })],
  providers: [
    {
      provide: OnlineStore,
      inject: [AppConfig, ONLINE_DATABASE, Metrics, { token: PARENT_CHANNEL, optional: true }],
      useFactory: (config: AppConfig, db: DuckDbDatabase | null, metrics: Metrics, parent?: IpcChannel): OnlineStore => {
        if (config.online.type !== 'redis' && forked(config)) return new ParentOnlineStore(parent!);
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
