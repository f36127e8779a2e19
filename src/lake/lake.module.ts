import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { RegistryModule } from '../registry/registry.module';
import { DatasetService } from './dataset.service';
import { DuckDbFileConverter } from './duckdb.file-converter';
import { FileConverter } from './file-converter';
import { LakeMetrics } from './lake-metrics';
import { LakeController } from './lake.controller';
import { ObjectStoreModule } from './object-store.module';

const CONVERTER_DATABASE = Symbol('CONVERTER_DATABASE');

/** Datasets in the lake: ingest, snapshots, catalog. Conversion runs on an in-memory DuckDB. */
@Module({
  imports: [ObjectStoreModule, RegistryModule],
  providers: [
    DatasetService,
    LakeMetrics,
    { provide: CONVERTER_DATABASE, inject: [AppConfig], useFactory: (config: AppConfig) => new DuckDbDatabase(':memory:', config.stateDir) },
    { provide: FileConverter, inject: [CONVERTER_DATABASE], useFactory: (db: DuckDbDatabase) => new DuckDbFileConverter(db) },
  ],
  controllers: [LakeController],
  exports: [DatasetService],
})
export class LakeModule implements OnApplicationShutdown {
  constructor(@Inject(CONVERTER_DATABASE) private readonly db: DuckDbDatabase) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
