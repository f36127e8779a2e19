import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DuckDbDatabase } from './duckdb-database';

/**
 * The offline DuckDB file, shared by the modules that keep state in it (feature tables, job
 * history): DuckDB allows one writing process per file, and one instance per process.
 */
export class OfflineDatabase extends DuckDbDatabase {}

@Module({
  providers: [{ provide: OfflineDatabase, inject: [AppConfig], useFactory: (config: AppConfig) => new OfflineDatabase(config.offlinePath, config.stateDir, config.duckdbMemoryLimit) }],
  exports: [OfflineDatabase],
})
export class DuckDbModule implements OnApplicationShutdown {
  constructor(@Inject(OfflineDatabase) private readonly db: OfflineDatabase) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
