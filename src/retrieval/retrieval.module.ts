import { Module } from '@nestjs/common';
import { TempFiles } from '../common/temp-files';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { DuckDbModule } from '../duckdb/duckdb.module';
import { LakeModule } from '../lake/lake.module';
import { ObjectStoreModule } from '../storage/object-store.module';
import { OfflineStoreModule } from '../offline-store/offline-store.module';
import { RegistryModule } from '../registry/registry.module';
import { DuckDbResultEncoder } from './duckdb.result-encoder';
import { HistoricalFeaturesService } from './historical-features.service';
import { HistoricalQueries } from './historical-queries';
import { PartitionedJoin } from './partitioned-join';
import { ResultEncoder } from './result-encoder';
import { RetrievalController } from './retrieval.controller';
import { TrainingSetsController } from './training-sets.controller';
import { TrainingSetsService } from './training-sets.service';

const ENCODER_DATABASE = Symbol('ENCODER_DATABASE');

/** Training data: point-in-time joins from any entity source, streamed in any format, and saved, reproducible training sets. */
@Module({
  imports: [RegistryModule, OfflineStoreModule, LakeModule, ObjectStoreModule, DuckDbModule.register({ token: ENCODER_DATABASE, name: 'results', path: () => ':memory:' })],
  providers: [
    HistoricalQueries,
    PartitionedJoin,
    HistoricalFeaturesService,
    TrainingSetsService,
    { provide: ResultEncoder, inject: [ENCODER_DATABASE, TempFiles], useFactory: (db: DuckDbDatabase, temp: TempFiles) => new DuckDbResultEncoder(db, temp) },
  ],
  controllers: [RetrievalController, TrainingSetsController],
  exports: [HistoricalQueries, HistoricalFeaturesService, TrainingSetsService],
})
export class RetrievalModule {}
