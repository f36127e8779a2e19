import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { RegistryModule } from '../registry/registry.module';
import { DatasetService } from './dataset.service';
import { DuckDbFileConverter } from './duckdb.file-converter';
import { FileConverter } from './file-converter';
import { LakeController } from './lake.controller';
import { ObjectStoreModule } from './object-store.module';

/** Datasets in the lake: ingest, snapshots, catalog. Conversion runs on an in-memory DuckDB. */
@Module({
  imports: [ObjectStoreModule, RegistryModule],
  providers: [
    DatasetService,
    {
      provide: FileConverter,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new DuckDbFileConverter(new DuckDbDatabase(':memory:', config.stateDir)),
    },
  ],
  controllers: [LakeController],
  exports: [DatasetService],
})
export class LakeModule {}
