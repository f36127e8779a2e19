import { Module } from '@nestjs/common';
import { OfflineStoreModule } from '../offline-store/offline-store.module';
import { RegistryModule } from '../registry/registry.module';
import { HistoricalFeaturesService } from './historical-features.service';
import { RetrievalController } from './retrieval.controller';

@Module({
  imports: [RegistryModule, OfflineStoreModule],
  providers: [HistoricalFeaturesService],
  controllers: [RetrievalController],
  exports: [HistoricalFeaturesService],
})
export class RetrievalModule {}
